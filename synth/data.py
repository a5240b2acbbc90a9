"""Reference data for the synthetic population: origins, name lists, places, codes, addresses.

Why a data module: the generator must exercise the name realities of the KIM target group
(see shared/DOMAIN.md, "Names and birth dates") without borrowing from the shipped samples, so
that generated data is an independent test. The lists are written from general knowledge of
naming in each language area; combinations are drawn at random and belong to nobody.
Name lists are ordered roughly by frequency: the generator samples them with a Zipf-like
weight, so the first names of a list collide across unrelated families, as in real registers.

Spelling of canonical names follows the common passport-style Latin transliteration of each
area (Ukrainian national system, Turkish/Albanian orthography with diacritics, English-style
Arabic/Persian). Variant spellings are produced by rules in ``synth.spelling``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """One origin group: who they are called, where they were born, what papers they hold."""

    key: str
    weight: float  # share of households
    rules: str  # rule-set key in synth.spelling
    nationalities: tuple[tuple[str, float], ...]  # ISO-3 (XKX, XXA allowed) with weights
    given_male: tuple[str, ...]
    given_female: tuple[str, ...]
    family: tuple[str, ...]  # empty for patronymic origins (family name = father's name)
    places: tuple[tuple[str, ...], ...]  # (canonical, variant, ...)
    statuses: tuple[tuple[str, float], ...]  # residence status distribution
    family_mode: str = "family"  # "family", "patronymic" or "optional" (often no family name)
    p_no_family_name: float = 0.0
    p_second_given: float = 0.0  # a second given name (often the father's name) on paper
    p_placeholder_household: float = 0.1  # household registered with unknown birth days
    p_male_head: float = 0.65
    feminine: str = ""  # family-name feminisation scheme: "" or "slavic"


def _t(text: str) -> tuple[str, ...]:
    """Split a comma-separated literal into a tuple: keeps long lists readable."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _places(text: str) -> tuple[tuple[str, ...], ...]:
    """Parse ``canonical/variant/variant; ...`` into place tuples."""
    return tuple(tuple(v.strip() for v in group.split("/")) for group in text.split(";") if group.strip())


# --- Arabic (Syria, Iraq; also used by some Kurds) ------------------------------------------
ARABIC_MALE_COMMON = _t("""
Mohammed, Ahmad, Ali, Mahmoud, Omar, Khaled, Hassan, Hussein, Ibrahim, Youssef, Abdullah,
Abdul Rahman, Mustafa, Abdul Aziz, Yasser, Samir, Bassam, Walid, Nabil, Fadi, Rami, Tarek,
Ammar, Anas, Bilal, Hamza, Osama, Jamal, Kamal, Majed, Marwan, Nizar, Rashid, Said, Salim,
Sami, Wael, Yahya, Zaid, Ziad, Adnan, Ayman, Firas, Ghassan, Hani, Hisham, Imad, Karim, Mazen,
Nasser, Raed, Saleh, Suleiman, Talal, Taha, Ismail, Khalil, Laith, Munir, Abdul Karim
""")
SYRIAN_MALE_EXTRA = _t("""
Qusai, Tamer, Basel, Louay, Muhannad, Obaida, Riad, Shadi, Wassim, Yazan, Zakaria, Amjad, Aref,
Ayham, Diaa, Eyad, Fawaz, Haitham, Husam, Jaber, Moataz, Nour Eddin, Omran, Rabea, Radwan,
Safwan, Yamen, Abdul Hadi, Ghaith, Hazem, Iyad, Kinan, Maher, Nidal, Ousama
""")
IRAQI_MALE_EXTRA = _t("""
Haider, Abbas, Murtadha, Muntadher, Hamid, Sajjad, Karrar, Jaafar, Kadhim, Mahdi, Saad, Ammar,
Hashim, Qasim, Salman, Sabah, Jabbar, Falah, Nawaf, Uday, Zuhair, Akram, Dhiaa, Ghanim, Hayder,
Mohanad, Muayad, Raad, Thamer, Yaseen
""")
ARABIC_FEMALE_COMMON = _t("""
Fatima, Aisha, Mariam, Nour, Rana, Rasha, Reem, Sara, Hala, Huda, Layla, Lina, Maya, Nada,
Noura, Rania, Samira, Yasmin, Zainab, Amal, Asmaa, Bushra, Dalia, Duaa, Eman, Ghada, Hanan,
Hiba, Iman, Jana, Khadija, Lama, Leen, Lubna, Manal, Marwa, Mona, Nadia, Nisreen, Rahaf,
Raghad, Ruba, Safaa, Salma, Sana, Shaima, Suha, Tasneem, Wafaa, Walaa, Yara, Alaa, Batoul,
Hayat, Malak, Najwa, Maysa, Inas
""")
IRAQI_FEMALE_EXTRA = _t("""
Zahraa, Ruqaya, Fatimah, Sajida, Hawraa, Maryam, Shahad, Abeer, Ban, Dina, Ishraq, Khawla,
Nadia, Rafal, Saja, Tabarak, Widad, Zeena
""")
SYRIAN_FAMILY = _t("""
Al-Ahmad, Al-Ali, Al-Hassan, Al-Hussein, Al-Khatib, Al-Masri, Al-Halabi, Al-Shami, Al-Homsi,
Al-Hamwi, Al-Zoubi, Al-Khalil, Al-Saleh, Al-Omar, Al-Abdullah, Al-Mohammad, Al-Ibrahim,
Al-Issa, Al-Mousa, Al-Youssef, Al-Naser, Al-Jasem, Al-Hamoud, Al-Sayed, Al-Tawil, Al-Najjar,
Al-Haddad, Al-Sabbagh, Al-Attar, Al-Rifai, Haddad, Najjar, Khoury, Hamdan, Hamoud, Darwish,
Ibrahim, Hassan, Hussein, Ahmad, Ali, Mohammad, Othman, Saleh, Suleiman, Youssef, Mustafa,
Abdo, Kurdi, Shaheen, Abu Zeid, Qassem, Kassab, Kanaan, Mansour, Nasser, Obeid, Rahal,
Salloum, Sheikh, Taha, Zein, Zaher, Hamadeh, Habib, Jaber, Khalaf, Mahmoud, Marouf, Mahfouz,
Nassar, Raslan, Sawaf, Shukri, Tayara, Zaidan, Abbas, Dabbagh, Fares, Ghanem, Idlibi, Jumaa,
Mardini, Qaddour, Rajab, Sabri, Sukkar, Tahhan, Wehbe, Yassin, Younes, Abu Hamdan, Hamwi,
Khatib, Omar, Al-Kurdi, Al-Hariri, Al-Jabali, Al-Dahhan
""")
IRAQI_FAMILY = _t("""
Al-Jubouri, Al-Obeidi, Al-Dulaimi, Al-Shammari, Al-Tamimi, Al-Saadi, Al-Khafaji, Al-Rubaie,
Al-Zubaidi, Al-Janabi, Al-Azzawi, Al-Ani, Al-Hashimi, Al-Hilli, Al-Musawi, Al-Bayati, Al-Kaabi,
Al-Asadi, Al-Lami, Al-Hamdani, Al-Qaisi, Al-Samarrai, Al-Karkhi, Al-Mashhadani, Al-Ameri,
Al-Khazraji, Al-Rawi, Al-Kubaisi, Al-Baghdadi, Al-Basri, Al-Najafi, Al-Hakim, Al-Timimi,
Al-Saedi, Al-Yasiri, Al-Attiyah, Al-Bahadli, Al-Fatlawi, Al-Gharawi, Al-Jaberi, Al-Mayahi,
Al-Sharifi, Hassan, Ali, Hussein, Abbas, Jaafar, Kadhim, Hamid, Jabbar, Salman, Hameed, Mahdi,
Saeed, Jassim, Mohammed, Ahmed, Khalil, Yousif, Abdulla, Rasheed, Kareem, Majeed, Mousa, Nouri,
Sultan, Taher, Waleed, Aziz, Fadhil
""")
SYRIA_PLACES = _places("""
Damascus/Damaskus/Dimashq/Damas; Aleppo/Halab/Alep; Homs/Hims; Hama/Hamah; Idlib/Idleb;
Deir ez-Zor/Dair az-Zaur/Deir Ezzor/Deir al-Zor; Raqqa/Rakka/Ar-Raqqah; Latakia/Lattakia/Latakiya;
Daraa/Deraa/Dar'a; Qamishli/Kamischli/Al-Qamishli; Hasakah/Al-Hasaka/Hasake; Tartus/Tartous;
Douma/Duma; Manbij/Manbidsch; Al-Bab/Bab; Jableh/Dschabla; Salamiyah/Salamieh; Azaz/Aazaz
""")
IRAQ_PLACES = _places("""
Baghdad/Bagdad; Mosul/Mossul/Al-Mawsil; Basra/Basrah/Al-Basra; Kirkuk/Kerkuk; Najaf/Nadschaf/An-Najaf;
Karbala/Kerbela; Ramadi/Ar-Ramadi; Fallujah/Falludscha/Falluja; Tikrit; Samarra; Hilla/Al-Hillah;
Nasiriyah/Nasiriya; Diwaniyah/Diwaniya; Baqubah/Baquba; Amarah/Al-Amara; Kut/Al-Kut
""")

# --- Kurdish ------------------------------------------------------------------------------
KURDISH_MALE = _t("""
Azad, Rojhat, Baran, Dilshad, Shivan, Serhat, Kawa, Rebwar, Hawre, Karwan, Sherzad, Diyar,
Aram, Hogir, Zana, Ciwan, Berzan, Renas, Rezan, Welat, Bawer, Sirwan, Soran, Goran, Kamaran,
Shwan, Hemin, Dara, Rebin, Zirak, Berhem, Brusk, Alan, Mihemed, Ehmed, Xelîl, Hussein, Ibrahim,
Mahmud, Omer, Jiyar, Hejar, Dilovan, Roj, Agir
""")
KURDISH_FEMALE = _t("""
Berivan, Dilan, Rojin, Hêvî, Jiyan, Rojda, Zozan, Nergiz, Gulistan, Avesta, Delal, Shilan,
Shirin, Helin, Narin, Ronahi, Viyan, Zelal, Berfin, Dilvin, Evin, Gulan, Havin, Jinda, Lorin,
Medya, Nazdar, Perwin, Rozerin, Sozdar, Xezal, Zilan, Hana, Bahar, Newroz, Amina, Gulnaz, Lana,
Fatma, Leyla, Kurdistan, Sosin
""")
KURDISH_FAMILY = _t("""
Kurdi, Ali, Hesen, Hussein, Murad, Aziz, Rashid, Omar, Haji, Sheikhmous, Ibo, Bakir, Cudi,
Amedi, Zaxoyi, Duhoki, Hawrami, Jaf, Mukri, Baban, Rekani, Berwari, Doski, Mizuri, Sindi,
Herki, Bradosti, Surchi, Xoshnaw, Pishdari, Hamawandi, Mahmoud, Osman, Sleman, Kheder, Qadir,
Hamid, Hasan, Ahmed, Mohammed, Abdullah, Salih, Mustafa, Ismail, Khalil, Yousif, Bilbas, Goyi,
Shingali, Zebari, Silivi, Ezidi, Xelef
""")
KURDISH_PLACES = _places("""
Erbil/Arbil/Hawler/Hewlêr; Sulaymaniyah/Slemani/Sulaimaniya/Suleimania; Duhok/Dohuk/Dahuk;
Zakho/Zaxo/Sacho; Sinjar/Shingal/Sindschar; Halabja/Halabdscha; Afrin/Efrin; Kobani/Kobane/Ain al-Arab;
Amuda/Amude; Derik/Al-Malikiya; Diyarbakır/Diyarbakir/Amed; Mardin; Cizre/Dschisra; Nusaybin
""")

# --- Afghanistan (Dari, Pashto) ------------------------------------------------------------
AFGHAN_MALE = _t("""
Mohammad, Ahmad, Ali, Hamid, Mahmood, Abdul Wahid, Abdul Qadir, Abdul Basir, Abdul Hadi,
Abdul Ghafoor, Ahmad Shah, Gul Ahmad, Gul Mohammad, Sayed, Mirwais, Nasir, Naweed, Omid, Farid,
Fawad, Haroon, Hamza, Jawad, Jawid, Karim, Khalid, Masoud, Mujtaba, Murtaza, Najib, Nazir,
Noorullah, Rahmatullah, Hekmatullah, Habibullah, Zabihullah, Samiullah, Shafiq, Sharif, Shoaib,
Sohail, Wahid, Yama, Zaher, Zalmai, Zia, Qasim, Rahim, Rasul, Reza, Sadiq, Walid, Ajmal, Akbar,
Amin, Asad, Bashir, Bilal, Dawood, Elyas, Esmatullah, Fahim, Ghulam, Hakim, Hasib, Idris,
Ismail, Jamshid, Kabir, Latif, Mansoor, Matiullah, Naqib, Obaidullah, Qudratullah, Rafi, Saboor
""")
AFGHAN_FEMALE = _t("""
Fatima, Maryam, Zahra, Zainab, Fereshta, Mursal, Marzia, Mahbooba, Nargis, Nazanin, Parwana,
Parisa, Roya, Sahar, Shabnam, Shakila, Sharifa, Sima, Soraya, Tahmina, Wahida, Yalda, Zarmina,
Zohra, Arezo, Bibi Gul, Farzana, Fawzia, Habiba, Hasina, Homa, Khadija, Laila, Latifa, Madina,
Malalai, Masooda, Mina, Nadia, Nafisa, Najiba, Nasrin, Nilofar, Rahima, Razia, Robina, Sadia,
Safia, Samira, Shukria, Sultana, Zakia, Zuhal, Frozan, Gulalai, Mariam
""")
AFGHAN_FAMILY = _t("""
Ahmadi, Rahimi, Hakimi, Karimi, Sultani, Hashimi, Hussaini, Mohammadi, Jafari, Rezaei, Sadat,
Sharifi, Popal, Ahmadzai, Stanikzai, Mohmand, Safi, Shinwari, Niazi, Noori, Nazari, Haidari,
Azizi, Amiri, Akbari, Hotak, Durrani, Barakzai, Alokozai, Achakzai, Noorzai, Popalzai, Wardak,
Zazai, Mangal, Kohistani, Panjshiri, Badakhshi, Sahak, Totakhil, Kakar, Jalali, Samadi, Qaderi,
Sediqi, Faizi, Habibi, Rasuli, Wahidi, Nasiri, Mohseni, Rahmani, Yousufi, Mirzad, Omari
""")
AFGHAN_PLACES = _places("""
Kabul/Kabol; Herat/Harat; Kandahar/Qandahar/Kandahar-Stadt; Mazar-i-Sharif/Mazar-e Sharif/Masar-e Scharif;
Jalalabad/Dschalalabad; Kunduz/Kundus/Qunduz; Ghazni/Ghasni; Baghlan/Pul-e Khumri; Bamyan/Bamiyan;
Lashkar Gah/Laschkar Gah; Khost/Chost; Gardez/Gardes; Mehtarlam; Charikar/Tscharikar;
Faizabad/Feyzabad/Faisabad; Taloqan/Talokan; Maidan Shahr/Maydan Shar; Pul-e Alam
""")

# --- Iran -------------------------------------------------------------------------------------
IRAN_MALE = _t("""
Ali, Mohammad, Hossein, Reza, Mehdi, Amir, Hamid, Saeed, Majid, Mohsen, Behnam, Babak, Arash,
Dariush, Farhad, Hamed, Javad, Kamran, Kourosh, Mahmoud, Masoud, Milad, Morteza, Nima, Omid,
Payam, Pouya, Ramin, Sina, Siavash, Soheil, Vahid, Yousef, Abbas, Ahmad, Alireza, Amin, Arman,
Ehsan, Erfan, Farid, Hadi, Hassan, Iman, Kaveh, Keyvan, Mahdi, Mani, Mehran, Mojtaba, Navid,
Peyman, Pezhman, Rasoul, Shahin, Shahram, Sajjad, Sepehr, Taha, Yasin, Mohammadreza, Aliakbar
""")
IRAN_FEMALE = _t("""
Fatemeh, Zahra, Maryam, Narges, Sara, Leila, Mina, Nasrin, Parisa, Shirin, Mahsa, Azadeh, Roya,
Sima, Samira, Elham, Farnaz, Fariba, Golnaz, Hoda, Ladan, Mahnaz, Marjan, Mehri, Mitra, Nazanin,
Negin, Niloofar, Pari, Parvaneh, Sahar, Setareh, Shabnam, Shiva, Soheila, Tahereh, Yasaman,
Zeinab, Atefeh, Bahareh, Donya, Elnaz, Ghazal, Haleh, Homa, Kimia, Mahtab, Neda, Roksana,
Samaneh, Somayeh, Taraneh, Faezeh, Masoumeh
""")
IRAN_FAMILY = _t("""
Mohammadi, Hosseini, Ahmadi, Rezaei, Moradi, Karimi, Jafari, Rahimi, Hashemi, Mousavi, Sadeghi,
Heydari, Ghasemi, Kazemi, Ebrahimi, Abbasi, Najafi, Mahmoudi, Ghorbani, Salehi, Amiri, Akbari,
Bagheri, Jalali, Kamali, Nasseri, Rostami, Sharifi, Tavakoli, Yazdani, Zamani, Asadi, Azizi,
Farahani, Golzari, Hamidi, Kiani, Latifi, Mirzaei, Nazari, Omidi, Parsa, Rahmani, Safavi,
Shirazi, Tehrani, Vahidi, Zarei, Esmaeili, Khosravi, Soltani, Moghaddam, Behzadi, Naderi,
Fazeli, Ansari, Dehghan, Habibi, Jamshidi
""")
IRAN_PLACES = _places("""
Tehran/Teheran; Mashhad/Maschhad/Meshed; Isfahan/Esfahan; Shiraz/Schiras; Tabriz/Täbris/Tabris;
Karaj/Karadsch; Ahvaz/Ahwaz; Qom/Ghom/Kom; Kermanshah/Kermanschah; Urmia/Urmiyeh/Orumiyeh;
Rasht/Rascht; Zahedan/Sahedan; Kerman; Hamadan/Hamedan; Yazd/Jazd; Ardabil/Ardebil
""")

# --- Eritrea (Tigrinya; patronymic family names) ------------------------------------------
TIGRINYA_MALE = _t("""
Tesfay, Haile, Berhane, Yohannes, Tekle, Kidane, Mebrahtu, Ghebremedhin, Tesfamariam, Habte,
Abraham, Daniel, Dawit, Samuel, Yonas, Filmon, Michael, Merhawi, Mussie, Natnael, Robel, Senay,
Semere, Sirak, Temesgen, Tewelde, Weldu, Yemane, Zeray, Amanuel, Aron, Biniam, Efrem, Eyob,
Fitsum, Goitom, Habtom, Henok, Kibrom, Kiflom, Mehari, Mengisteab, Mulugeta, Nahom, Okbay,
Petros, Solomon, Tesfalem, Tsegay, Yosief, Abel, Ermias, Ghirmay, Kahsay, Mesfin, Negassi,
Yacob, Gebreselassie, Woldemichael, Asmerom, Hagos
""")
TIGRINYA_FEMALE = _t("""
Helen, Selam, Senait, Saba, Mebrat, Hiwet, Tsega, Rahel, Ruth, Feven, Winta, Yordanos, Eden,
Elsa, Freweini, Luwam, Meron, Mical, Nardos, Rigat, Semhar, Simret, Tirhas, Yohana, Akberet,
Aster, Azieb, Fiyori, Hanna, Hermon, Kidan, Lidia, Mhret, Milen, Abrehet, Almaz, Ariam, Azmera,
Danait, Haben, Letekidan, Mahlet, Medhanit, Salem, Sara, Yodit, Zufan, Tsigereda
""")
ERITREA_PLACES = _places("""
Asmara/Asmera; Keren/Cheren; Massawa/Massaua/Mitsiwa; Mendefera; Dekemhare/Dekemhare-Stadt;
Adi Keyh/Adi Keih; Barentu; Teseney/Tessenei; Assab/Aseb; Ghinda/Ginda; Adi Quala/Adi Kwala; Segeneiti
""")

# --- Ukraine ------------------------------------------------------------------------------
UKRAINIAN_MALE = _t("""
Oleksandr, Andrii, Serhii, Dmytro, Volodymyr, Mykola, Ivan, Oleh, Yurii, Vasyl, Petro, Mykhailo,
Viktor, Bohdan, Taras, Vitalii, Yevhen, Ihor, Roman, Maksym, Artem, Denys, Vladyslav, Oleksii,
Pavlo, Anatolii, Valentyn, Vadym, Stepan, Hryhorii, Yaroslav, Ruslan, Anton, Kostiantyn, Illia,
Nazar, Kyrylo, Danylo, Matvii, Tymofii, Yosyp, Fedir, Leonid, Borys, Arsen, Markiian, Rostyslav,
Sviatoslav, Zakhar, Orest, Valerii, Heorhii
""")
UKRAINIAN_FEMALE = _t("""
Olena, Nataliia, Tetiana, Iryna, Svitlana, Oksana, Yuliia, Kateryna, Anastasiia, Mariia, Olha,
Liudmyla, Halyna, Nadiia, Viktoriia, Alina, Hanna, Larysa, Valentyna, Inna, Khrystyna, Daryna,
Sofiia, Yana, Tamara, Lesia, Oleksandra, Vira, Liubov, Zoriana, Uliana, Solomiia, Marta, Diana,
Karyna, Polina, Veronika, Yevheniia, Antonina, Raisa, Zinaida, Liliia, Snizhana, Mariana,
Vladyslava, Yaroslava, Bohdana, Khrystyna, Nina, Valeriia
""")
UKRAINIAN_FAMILY = _t("""
Shevchenko, Kovalenko, Bondarenko, Tkachenko, Kravchenko, Boiko, Kovalchuk, Oliinyk, Shevchuk,
Koval, Polishchuk, Bondar, Tkachuk, Moroz, Marchenko, Lysenko, Rudenko, Savchenko, Petrenko,
Klymenko, Pavlenko, Kravchuk, Kuzmenko, Ponomarenko, Savchuk, Vasylenko, Levchenko, Kharchenko,
Karpenko, Melnyk, Tkach, Hrytsenko, Yakovenko, Romanenko, Kushnir, Sydorenko, Ivanenko,
Zinchenko, Hordiienko, Nazarenko, Prykhodko, Fedorenko, Kozak, Lytvynenko, Mazur, Pylypenko,
Didenko, Vlasenko, Kostenko, Ostapenko, Lukianenko, Kryvenko, Shapoval, Panchenko, Danylenko,
Demchenko, Havryliuk, Khomenko, Semenko, Yurchenko, Kovalskyi, Sokolovskyi, Zhuravskyi,
Vyshnevskyi, Kaminskyi, Lisovskyi, Zalizniak, Hnatiuk, Chornyi, Bilyi, Holub, Soroka,
Horobets, Zhuk, Chumak, Kuzyk, Stepaniuk, Fedoruk, Dmytruk, Martyniuk, Hutsul, Voloshyn,
Tereshchenko, Kyrylenko, Mykhailenko, Shcherbak, Zadorozhnyi, Sereda
""")
UKRAINE_PLACES = _places("""
Kyiv/Kiew/Kiev; Kharkiv/Charkiw/Kharkov/Charkow; Odesa/Odessa; Dnipro/Dnipropetrovsk/Dnipropetrowsk;
Lviv/Lwiw/Lemberg/Lvov; Zaporizhzhia/Saporischschja/Zaporozhye; Mykolaiv/Mykolajiw/Nikolajew;
Mariupol/Mariupil; Kherson/Cherson; Chernihiv/Tschernihiw/Chernigov; Poltava/Poltawa; Sumy;
Vinnytsia/Winnyzja/Vinnitsa; Zhytomyr/Schytomyr; Donetsk/Donezk; Luhansk/Lugansk;
Kramatorsk; Bakhmut/Bachmut; Kryvyi Rih/Krywyj Rih/Krivoy Rog; Ivano-Frankivsk/Iwano-Frankiwsk;
Ternopil/Ternopol; Cherkasy/Tscherkassy; Kropyvnytskyi/Kirowohrad; Uzhhorod/Uschhorod
""")

# --- Turkey ----------------------------------------------------------------------------------
TURKISH_MALE = _t("""
Mehmet, Mustafa, Ahmet, Ali, Hüseyin, Hasan, İbrahim, İsmail, Osman, Yusuf, Murat, Ömer,
Ramazan, Halil, Süleyman, Abdullah, Mahmut, Salih, Kemal, Fatih, Emre, Burak, Serkan, Cem, Can,
Deniz, Barış, Onur, Uğur, Volkan, Tolga, Yasin, Furkan, Enes, Emir, Eren, Kaan, Berk, Oğuz,
Selim, Serdar, Tarık, Umut, Yiğit, Çağlar, Doğan, Erkan, Gökhan, Hakan, Kadir, Levent, Metin,
Orhan, Özgür, Sinan, Şükrü, Tuncay, Zeki, Recep, Musa
""")
TURKISH_FEMALE = _t("""
Ayşe, Fatma, Emine, Hatice, Zeynep, Elif, Meryem, Şerife, Sultan, Hanife, Merve, Büşra, Esra,
Kübra, Özlem, Gül, Gülsüm, Hülya, Derya, Ebru, Ece, Gizem, İrem, Melek, Nur, Özge, Selin,
Sevgi, Songül, Tuba, Yasemin, Zehra, Aslı, Begüm, Cansu, Damla, Dilek, Duygu, Eda, Filiz,
Gamze, Hande, Leyla, Nazlı, Pınar, Rabia, Seda, Şule, Tuğba, Sibel
""")
TURKISH_FAMILY = _t("""
Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, Arslan, Doğan,
Kılıç, Aslan, Çetin, Kara, Koç, Kurt, Özkan, Şimşek, Polat, Özcan, Korkmaz, Çakır, Erdem, Yavuz,
Can, Acar, Şen, Aktaş, Güler, Yalçın, Güneş, Bozkurt, Bulut, Keskin, Ünal, Turan, Gül, Özer,
İnce, Tekin, Akın, Kaplan, Avcı, Sarı, Uçar, Karaca, Tunç, Güven, Kocabaş, Altun, Taş, Aksoy,
Çiftçi, Ateş, Coşkun, Başaran, Duman, Işık
""")
TURKEY_PLACES = _places("""
İstanbul/Istanbul/Stambul; Ankara; İzmir/Izmir/Smyrna; Gaziantep/Antep; Şanlıurfa/Sanliurfa/Urfa;
Van; Batman; Malatya; Kayseri; Konya; Erzurum; Adana; Hatay/Antakya; Kahramanmaraş/Kahramanmaras/Maraş;
Mersin; Bingöl/Bingoel/Bingol; Muş/Mus; Tunceli/Dersim; Siirt; Ağrı/Agri
""")

# --- Albania and Kosovo ----------------------------------------------------------------------
ALBANIAN_MALE = _t("""
Arben, Besnik, Blerim, Driton, Fatmir, Gëzim, Ilir, Kujtim, Lulzim, Mentor, Naim, Valon, Visar,
Agron, Afrim, Bekim, Dardan, Edon, Endrit, Florian, Genc, Granit, Hekuran, Jetmir, Kastriot,
Labinot, Liridon, Mergim, Nderim, Petrit, Qëndrim, Rinor, Shkëlzen, Skënder, Taulant, Valmir,
Xhevdet, Ylber, Zenel, Arlind, Armend, Bashkim, Besart, Drilon, Egzon, Fisnik, Gentrit, Hysen,
Jeton, Muhamet
""")
ALBANIAN_FEMALE = _t("""
Arta, Besa, Blerta, Donika, Drita, Elira, Era, Fatjona, Gentiana, Hana, Jehona, Kaltrina,
Lindita, Mimoza, Njomza, Qëndresa, Rina, Shqipe, Teuta, Valbona, Vjosa, Yllka, Zana, Albulena,
Arbnora, Besarta, Diellza, Edona, Fjolla, Flutura, Hyrije, Jeta, Lirije, Mirjeta, Nora,
Rrezarta, Saranda, Shpresa, Vlora, Merita, Ardita, Lumnije, Xhevahire, Ermira
""")
ALBANIAN_FAMILY = _t("""
Berisha, Krasniqi, Gashi, Shala, Hoxha, Morina, Kelmendi, Hasani, Bytyqi, Rexhepi, Ahmeti,
Kastrati, Osmani, Sadiku, Zeqiri, Kryeziu, Halili, Limani, Mustafa, Jashari, Bajrami, Hyseni,
Avdiu, Dervishi, Hajdari, Haziri, Ismaili, Leka, Lika, Maliqi, Mehmeti, Musliu, Nuhiu, Pllana,
Qerimi, Rrahmani, Salihu, Selmani, Shehu, Sylejmani, Tahiri, Veseli, Xhafa, Ymeri, Zymberi,
Çela, Dibra, Dushi, Gjoka, Hoti, Kola, Marku, Prenga, Tafa, Bekteshi, Fazliu, Shabani
""")
ALBANIA_PLACES = _places("""
Tirana/Tiranë/Tirane; Durrës/Durres/Durazzo; Shkodër/Shkodra/Skutari; Elbasan; Vlorë/Vlora/Valona;
Korçë/Korca/Koritza; Fier; Berat; Prishtina/Pristina/Prishtinë; Prizren; Peja/Pejë/Pec;
Gjakova/Gjakovë/Djakovica; Mitrovica/Mitrovicë; Ferizaj/Urosevac; Gjilan/Gnjilane; Kukës/Kukes
""")

# --- Nigeria ---------------------------------------------------------------------------------
NIGERIAN_MALE = _t("""
Chukwuemeka, Chinedu, Emeka, Obinna, Ikechukwu, Nnamdi, Uchenna, Chidi, Ifeanyi, Oluwaseun,
Olumide, Oluwafemi, Babatunde, Adebayo, Ayodele, Kayode, Segun, Tunde, Femi, Gbenga, Abubakar,
Ibrahim, Musa, Sani, Usman, Yusuf, Aliyu, Bello, Idris, Suleiman, Daniel, David, Emmanuel,
Godwin, John, Joseph, Michael, Paul, Samuel, Victor, Peter, Friday, Sunday, Kelechi, Tochukwu,
Ebuka, Osagie, Osaro, Efosa, Eghosa
""")
NIGERIAN_FEMALE = _t("""
Chiamaka, Chidinma, Ngozi, Nkechi, Adaeze, Amaka, Ifeoma, Uchechi, Oluwakemi, Funmilayo, Folake,
Abimbola, Adeola, Bukola, Titilayo, Yetunde, Aisha, Amina, Hauwa, Zainab, Fatima, Hadiza,
Blessing, Precious, Joy, Grace, Mercy, Faith, Gift, Esther, Mary, Patience, Comfort, Deborah,
Ruth, Osasere, Omosede, Efe, Ivie, Favour
""")
NIGERIAN_FAMILY = _t("""
Okafor, Okonkwo, Eze, Nwachukwu, Okeke, Obi, Nwosu, Chukwu, Onyeka, Uzor, Adeyemi, Ogunleye,
Adebayo, Oladipo, Afolabi, Balogun, Bakare, Olawale, Ogundipe, Akinola, Bello, Abubakar,
Ibrahim, Mohammed, Usman, Yusuf, Aliyu, Lawal, Danjuma, Garba, Osagie, Igbinedion, Omoregie,
Osaghae, Edosa, Ehigiator, Okoro, Onuoha, Ugwu, Agbo, Edeh, Nnaji, Obiora, Ezeh, Iwu, Uwaifo
""")
NIGERIA_PLACES = _places("""
Lagos; Ibadan; Kano; Abuja; Benin City/Benin-City/Benin; Port Harcourt/Port-Harcourt; Enugu;
Onitsha; Owerri; Aba; Kaduna; Jos; Warri; Abeokuta; Ilorin; Calabar; Uyo; Maiduguri; Ekpoma; Auchi
""")

# --- Somalia (patronymic) ----------------------------------------------------------------------
SOMALI_MALE = _t("""
Mohamed, Abdi, Abdirahman, Abdullahi, Ahmed, Ali, Hassan, Hussein, Ibrahim, Ismail, Omar,
Yusuf, Abdikarim, Abdiaziz, Abdiqani, Abshir, Bashir, Faisal, Farah, Guled, Hamza, Jama,
Liban, Mahad, Mukhtar, Nur, Osman, Said, Sharif, Warsame, Yasin, Adan, Bile, Dahir, Elmi,
Hirsi, Khalid, Mustafe, Qasim, Siyad, Abdiwali, Aweys
""")
SOMALI_FEMALE = _t("""
Amina, Asha, Fadumo, Hodan, Halima, Hawa, Ifrah, Khadra, Layla, Maryan, Nasra, Nimco, Sahra,
Safiya, Sagal, Shukri, Ubah, Zamzam, Deqa, Farhiya, Hibo, Idil, Istar, Kaltun, Luul, Muna,
Naima, Rahma, Ruqiya, Samira, Sucaad, Warda, Yasmin, Zahra, Ayan, Bilan, Fardowsa, Hamdi,
Hani, Leyla
""")
SOMALIA_PLACES = _places("""
Mogadishu/Mogadischu/Muqdisho; Hargeisa/Hargeysa; Kismayo/Kismaayo; Baidoa/Baydhabo;
Beledweyne/Beledweyn; Bosaso/Boosaaso; Galkayo/Gaalkacyo; Merca/Marka; Burao/Burco; Garowe/Garoowe
""")

# --- Georgia -----------------------------------------------------------------------------------
GEORGIAN_MALE = _t("""
Giorgi, Davit, Levan, Irakli, Nikoloz, Luka, Zurab, Giga, Lasha, Tornike, Beka, Nika, Sandro,
Mamuka, Gela, Gocha, Vakhtang, Tengiz, Koba, Temur, Shota, Zaza, Revaz, Archil, Badri, Dato,
Goga, Ilia, Kakha, Lado, Mikheil, Otar, Paata, Rati, Sergo, Tamaz, Vano, Zviad, Gia, Guram
""")
GEORGIAN_FEMALE = _t("""
Nino, Tamar, Mariam, Ana, Ketevan, Natia, Salome, Eka, Maia, Lela, Manana, Nana, Natela, Sopho,
Tea, Tinatin, Khatia, Lika, Nato, Keti, Marika, Mzia, Nestan, Rusudan, Irma, Inga, Ia, Liana,
Medea, Nona, Tsira, Tamila, Eliso, Elene, Gvantsa, Khatuna, Lali, Madona, Maka, Teona
""")
GEORGIAN_FAMILY = _t("""
Beridze, Kapanadze, Gelashvili, Maisuradze, Giorgadze, Lomidze, Tsiklauri, Bolkvadze, Nozadze,
Khutsishvili, Abashidze, Gogoladze, Japaridze, Chikovani, Meladze, Kiknadze, Mikeladze,
Tabatadze, Lobjanidze, Gogoberidze, Shengelia, Dolidze, Bakradze, Chkheidze, Jikia,
Kharaishvili, Natsvlishvili, Tsertsvadze, Khachidze, Svanidze, Gabunia, Jorjadze, Kurtanidze,
Mgeladze, Nadiradze, Papava, Sichinava, Todua, Zhvania, Gvaramia, Kvirikashvili, Mamaladze
""")
GEORGIA_PLACES = _places("""
Tbilisi/Tiflis; Kutaisi; Batumi; Rustavi/Rustawi; Zugdidi/Sugdidi; Gori; Poti; Telavi/Telawi;
Samtredia; Zestaponi/Zestafoni; Khashuri/Chaschuri; Senaki
""")

# --- Guinea (French transliteration) -----------------------------------------------------------
GUINEAN_MALE = _t("""
Mamadou, Alpha, Ibrahima, Abdoulaye, Ousmane, Amadou, Mohamed, Sékou, Thierno, Boubacar, Mamadi,
Lansana, Aboubacar, Souleymane, Moussa, Oumar, Alseny, Fodé, Mory, Ismaël, Saliou, Cheick,
Djibril, Karamoko, Lamine, Mamady, Naby, Ousmane, Sidiki, Yaya, Almamy, Aliou, Bangaly, Daouda,
Elhadj, Facinet, Issiaga, Kabinet, Morlaye, Tidiane
""")
GUINEAN_FEMALE = _t("""
Mariama, Fatoumata, Aissatou, Kadiatou, Hawa, Aminata, Mariam, Djenabou, Oumou, Kadidiatou,
Safiatou, Hadja, Fanta, Binta, Ramatoulaye, Tenin, Assiatou, Saran, Nènè, Aïcha, Bountouraby,
Fatimatou, Hadiatou, Kankou, Makalé, Mamou, Maimouna, Nafissatou, Oumoul, Rouguiatou, Salimatou,
Sira, Sona, Tiguidanké, Yarie, Zeinab, Dalanda, Korka, Mabinty, Néné
""")
GUINEAN_FAMILY = _t("""
Diallo, Barry, Bah, Sow, Camara, Sylla, Keita, Baldé, Diakité, Kouyaté, Soumah, Cissé, Traoré,
Fofana, Kaba, Konaté, Sangaré, Bangoura, Condé, Kourouma, Touré, Cherif, Doumbia, Kanté, Magassouba,
Oularé, Sacko, Sidibé, Souaré, Tounkara, Yattara, Dramé, Fadiga, Haïdara, Kaké, Kanté, Loua,
Onivogui, Sakho, Yansané, Guilavogui, Koivogui
""")
GUINEA_PLACES = _places("""
Conakry/Konakry; Kankan; Labé/Labe; Nzérékoré/Nzerekore/N'Zérékoré; Kindia; Mamou; Boké/Boke;
Faranah; Siguiri; Guéckédou/Gueckedou; Pita; Dabola
""")

# --- Residence-status mixes -------------------------------------------------------------------
_PROTECTED = (
    ("AE_25_2_GFK", 0.30),
    ("AE_25_2_SUB", 0.22),
    ("AE_25_1", 0.04),
    ("AE_25_3", 0.06),
    ("GESTATTUNG", 0.14),
    ("DULDUNG", 0.04),
    ("NE", 0.08),
    ("AE_FAMILIE", 0.08),
    ("FIKTION_FORTGELTUNG", 0.02),
    ("EINGEBUERGERT", 0.02),
)
_ASYLUM_PENDING = (
    ("GESTATTUNG", 0.30),
    ("DULDUNG", 0.22),
    ("AE_25_3", 0.12),
    ("AE_25_2_GFK", 0.08),
    ("AE_25_2_SUB", 0.06),
    ("AUSREISEPFLICHTIG", 0.04),
    ("AE_25B", 0.05),
    ("AE_104C", 0.04),
    ("AE_25_5", 0.03),
    ("AE_FAMILIE", 0.04),
    ("ANKUNFTSNACHWEIS", 0.02),
)
_AFGHAN = (
    ("AE_25_3", 0.18),
    ("AE_25_2_GFK", 0.14),
    ("AE_25_2_SUB", 0.10),
    ("GESTATTUNG", 0.22),
    ("DULDUNG", 0.10),
    ("AE_22", 0.06),
    ("AE_23_2", 0.05),
    ("AE_25A", 0.04),
    ("AE_104C", 0.03),
    ("AE_FAMILIE", 0.05),
    ("ANKUNFTSNACHWEIS", 0.03),
)
_UKRAINE = (("AE_24", 0.84), ("FIKTION_ERLAUBNIS", 0.10), ("AE_18A", 0.02), ("AE_16B", 0.02), ("AE_FAMILIE", 0.02))
_BALKAN = (
    ("DULDUNG", 0.25),
    ("AUSREISEPFLICHTIG", 0.08),
    ("GESTATTUNG", 0.10),
    ("AE_18A", 0.12),
    ("AE_FAMILIE", 0.15),
    ("AE_25B", 0.08),
    ("AE_104C", 0.07),
    ("NE", 0.08),
    ("AE_25_5", 0.07),
)
_WORK_STUDY = (
    ("GESTATTUNG", 0.25),
    ("DULDUNG", 0.20),
    ("AE_16B", 0.12),
    ("AE_18B", 0.05),
    ("AE_25_2_GFK", 0.08),
    ("AE_25_3", 0.06),
    ("AE_FAMILIE", 0.10),
    ("AE_104C", 0.05),
    ("AUSREISEPFLICHTIG", 0.05),
    ("AE_25A", 0.04),
)
_IRAN = (
    ("GESTATTUNG", 0.25),
    ("AE_25_2_GFK", 0.22),
    ("AE_25_1", 0.06),
    ("DULDUNG", 0.08),
    ("AE_16B", 0.10),
    ("BLAUE_KARTE", 0.06),
    ("AE_18B", 0.05),
    ("AE_FAMILIE", 0.10),
    ("NE", 0.08),
)
_ERITREA = (
    ("AE_25_2_GFK", 0.38),
    ("AE_25_2_SUB", 0.22),
    ("GESTATTUNG", 0.12),
    ("AE_FAMILIE", 0.14),
    ("NE", 0.06),
    ("AE_25_3", 0.04),
    ("DULDUNG", 0.04),
)
_TURKEY = (
    ("GESTATTUNG", 0.35),
    ("DULDUNG", 0.12),
    ("AE_25_1", 0.05),
    ("AE_25_2_GFK", 0.12),
    ("AE_FAMILIE", 0.12),
    ("AE_18A", 0.06),
    ("NE", 0.08),
    ("AUSREISEPFLICHTIG", 0.05),
    ("AE_16B", 0.05),
)
_GEORGIA = (
    ("GESTATTUNG", 0.30),
    ("DULDUNG", 0.20),
    ("AUSREISEPFLICHTIG", 0.15),
    ("AE_18A", 0.10),
    ("AE_FAMILIE", 0.10),
    ("AE_16B", 0.10),
    ("AE_25_5", 0.05),
)

ORIGINS: tuple[Origin, ...] = (
    Origin(
        "syria",
        0.20,
        "arabic",
        (("SYR", 0.95), ("XXA", 0.03), ("XXX", 0.02)),
        ARABIC_MALE_COMMON + SYRIAN_MALE_EXTRA,
        ARABIC_FEMALE_COMMON,
        SYRIAN_FAMILY,
        SYRIA_PLACES,
        _PROTECTED,
        p_second_given=0.30,
        p_placeholder_household=0.18,
    ),
    Origin(
        "iraq",
        0.07,
        "arabic",
        (("IRQ", 0.97), ("XXX", 0.03)),
        IRAQI_MALE_EXTRA + ARABIC_MALE_COMMON,
        IRAQI_FEMALE_EXTRA + ARABIC_FEMALE_COMMON,
        IRAQI_FAMILY,
        IRAQ_PLACES,
        _ASYLUM_PENDING,
        p_second_given=0.35,
        p_placeholder_household=0.25,
    ),
    Origin(
        "kurdish",
        0.08,
        "kurdish",
        (("SYR", 0.38), ("IRQ", 0.34), ("TUR", 0.14), ("IRN", 0.04), ("XXA", 0.10)),
        KURDISH_MALE,
        KURDISH_FEMALE,
        KURDISH_FAMILY,
        KURDISH_PLACES,
        _PROTECTED,
        p_second_given=0.15,
        p_placeholder_household=0.25,
    ),
    Origin(
        "afghan",
        0.13,
        "persian",
        (("AFG", 0.98), ("XXX", 0.02)),
        AFGHAN_MALE,
        AFGHAN_FEMALE,
        AFGHAN_FAMILY,
        AFGHAN_PLACES,
        _AFGHAN,
        family_mode="optional",
        p_no_family_name=0.40,
        p_second_given=0.08,
        p_placeholder_household=0.45,
        p_male_head=0.75,
    ),
    Origin(
        "iran",
        0.05,
        "persian",
        (("IRN", 1.0),),
        IRAN_MALE,
        IRAN_FEMALE,
        IRAN_FAMILY,
        IRAN_PLACES,
        _IRAN,
        p_second_given=0.12,
        p_placeholder_household=0.08,
    ),
    Origin(
        "eritrea",
        0.05,
        "tigrinya",
        (("ERI", 0.97), ("XXX", 0.03)),
        TIGRINYA_MALE,
        TIGRINYA_FEMALE,
        (),
        ERITREA_PLACES,
        _ERITREA,
        family_mode="patronymic",
        p_placeholder_household=0.40,
        p_male_head=0.60,
    ),
    Origin(
        "ukraine",
        0.18,
        "cyrillic",
        (("UKR", 1.0),),
        UKRAINIAN_MALE,
        UKRAINIAN_FEMALE,
        UKRAINIAN_FAMILY,
        UKRAINE_PLACES,
        _UKRAINE,
        p_placeholder_household=0.01,
        p_male_head=0.30,
        feminine="slavic",
    ),
    Origin(
        "turkey",
        0.08,
        "turkish",
        (("TUR", 1.0),),
        TURKISH_MALE,
        TURKISH_FEMALE,
        TURKISH_FAMILY,
        TURKEY_PLACES,
        _TURKEY,
        p_second_given=0.15,
        p_placeholder_household=0.05,
    ),
    Origin(
        "albania",
        0.05,
        "albanian",
        (("ALB", 0.55), ("XKX", 0.45)),
        ALBANIAN_MALE,
        ALBANIAN_FEMALE,
        ALBANIAN_FAMILY,
        ALBANIA_PLACES,
        _BALKAN,
        p_second_given=0.04,
        p_placeholder_household=0.02,
    ),
    Origin(
        "nigeria",
        0.04,
        "westafrican",
        (("NGA", 1.0),),
        NIGERIAN_MALE,
        NIGERIAN_FEMALE,
        NIGERIAN_FAMILY,
        NIGERIA_PLACES,
        _WORK_STUDY,
        p_second_given=0.40,
        p_placeholder_household=0.12,
    ),
    Origin(
        "somalia",
        0.02,
        "somali",
        (("SOM", 0.97), ("XXX", 0.03)),
        SOMALI_MALE,
        SOMALI_FEMALE,
        (),
        SOMALIA_PLACES,
        _ERITREA,
        family_mode="patronymic",
        p_placeholder_household=0.50,
    ),
    Origin(
        "georgia",
        0.02,
        "georgian",
        (("GEO", 1.0),),
        GEORGIAN_MALE,
        GEORGIAN_FEMALE,
        GEORGIAN_FAMILY,
        GEORGIA_PLACES,
        _GEORGIA,
        p_placeholder_household=0.02,
    ),
    Origin(
        "guinea",
        0.03,
        "westafrican",
        (("GIN", 0.98), ("XXX", 0.02)),
        GUINEAN_MALE,
        GUINEAN_FEMALE,
        GUINEAN_FAMILY,
        GUINEA_PLACES,
        _WORK_STUDY,
        p_second_given=0.25,
        p_placeholder_household=0.40,
        p_male_head=0.80,
    ),
)

# Children born after arrival carry a German (or transit-country) birth place.
HOST_BIRTH_PLACES: tuple[tuple[str, ...], ...] = _places("""
Leverkusen; Köln/Koeln/Cologne; Düsseldorf/Duesseldorf; Solingen; Bergisch Gladbach/Berg. Gladbach;
Langenfeld; Wuppertal/Wupertal; Gaziantep/Antep; Athen/Athens; Beirut/Bairut
""")

# --- Nationality renderings (keep in line with mappings/codes/nationalities.csv) ------------
NATIONALITY_DESTATIS: dict[str, str] = {
    "SYR": "475",
    "IRQ": "438",
    "AFG": "423",
    "IRN": "439",
    "ERI": "224",
    "UKR": "166",
    "TUR": "163",
    "ALB": "121",
    "XKX": "150",
    "NGA": "232",
    "SOM": "273",
    "GEO": "430",
    "GIN": "261",
    "XXA": "997",
    "XXX": "998",
}
NATIONALITY_NAME_DE: dict[str, str] = {
    "SYR": "Syrien",
    "IRQ": "Irak",
    "AFG": "Afghanistan",
    "IRN": "Iran",
    "ERI": "Eritrea",
    "UKR": "Ukraine",
    "TUR": "Türkei",
    "ALB": "Albanien",
    "XKX": "Kosovo",
    "NGA": "Nigeria",
    "SOM": "Somalia",
    "GEO": "Georgien",
    "GIN": "Guinea",
    "XXA": "staatenlos",
    "XXX": "ungeklärt",
}
NATIONALITY_ADJECTIVE_DE: dict[str, str] = {
    "SYR": "syrisch",
    "IRQ": "irakisch",
    "AFG": "afghanisch",
    "IRN": "iranisch",
    "ERI": "eritreisch",
    "UKR": "ukrainisch",
    "TUR": "türkisch",
    "ALB": "albanisch",
    "XKX": "kosovarisch",
    "NGA": "nigerianisch",
    "SOM": "somalisch",
    "GEO": "georgisch",
    "GIN": "guineisch",
    "XXA": "staatenlos",
    "XXX": "ungeklärt",
}

# --- Addresses (one mid-sized NRW city; streets are generic German names) --------------------
POSTCODES: tuple[str, ...] = ("51371", "51373", "51375", "51377", "51379", "51381")
STREETS: tuple[str, ...] = _t("""
Hauptstraße, Bahnhofstraße, Schulstraße, Gartenstraße, Lindenstraße, Kirchstraße, Mühlenweg,
Am Stadtpark, Rheinallee, Birkenweg, Eichenweg, Ahornstraße, Kastanienallee, Rosenstraße,
Tulpenweg, Goethestraße, Schillerstraße, Lessingstraße, Heinestraße, Mozartstraße,
Beethovenstraße, Humboldtstraße, Kantstraße, Uhlandstraße, Ringstraße, Feldstraße, Wiesenweg,
Bergstraße, Talstraße, Waldstraße, Am Markt, Breite Straße, Lange Straße, Neue Straße,
Friedhofstraße, Industriestraße, Werkstraße, Hafenstraße, Brückenstraße, Mittelstraße,
Kölner Straße, Düsseldorfer Straße, Solinger Straße, Opladener Straße, Wuppertaler Straße,
Wupperstraße, Rheinstraße, Sandstraße, Steinweg, Burgstraße, Schloßstraße, Jahnstraße,
Parkstraße, Friedrichstraße, Wilhelmstraße, Luisenstraße, Blumenstraße, Sonnenweg, Fliederweg,
Kurze Straße, Dorfstraße, Auf dem Kamp, Im Winkel, Grüner Weg, Weidenstraße, Mauerstraße
""")
# Collective accommodation: many unrelated asylum seekers share one address.
SHELTER_ADDRESSES: tuple[tuple[str, str], ...] = (
    ("Industriestraße 120", "51373"),
    ("Am Stadtpark 3", "51379"),
    ("Werkstraße 45", "51377"),
    ("Hafenstraße 8", "51371"),
)
# Stadtteile by postcode (approximate), and Stadtbezirk numbering, for the district column.
DISTRICTS_BY_POSTCODE: dict[str, tuple[str, ...]] = {
    "51371": ("Hitdorf", "Rheindorf"),
    "51373": ("Wiesdorf", "Manfort"),
    "51375": ("Schlebusch", "Alkenrath"),
    "51377": ("Steinbüchel", "Waldsiedlung"),
    "51379": ("Opladen", "Quettingen", "Lützenkirchen"),
    "51381": ("Bergisch Neukirchen", "Bürrig", "Küppersteg"),
}
STADTBEZIRK_BY_POSTCODE: dict[str, str] = {
    "51371": "Stadtbezirk I",
    "51373": "Stadtbezirk I",
    "51375": "Stadtbezirk III",
    "51377": "Stadtbezirk III",
    "51379": "Stadtbezirk II",
    "51381": "Stadtbezirk II",
}

# --- Residence status history and Rechtskreis --------------------------------------------
# The status a person most likely held before the current one: stale records show it.
PREVIOUS_STATUS: dict[str, str] = {
    "AE_25_2_GFK": "GESTATTUNG",
    "AE_25_2_SUB": "GESTATTUNG",
    "AE_25_1": "GESTATTUNG",
    "AE_25_3": "GESTATTUNG",
    "NE": "AE_25_2_GFK",
    "AE_24": "FIKTION_ERLAUBNIS",
    "GESTATTUNG": "ANKUNFTSNACHWEIS",
    "DULDUNG": "GESTATTUNG",
    "AUSREISEPFLICHTIG": "GESTATTUNG",
    "EINGEBUERGERT": "NE",
    "AE_25B": "DULDUNG",
    "AE_25A": "DULDUNG",
    "AE_104C": "DULDUNG",
    "AE_25_5": "DULDUNG",
    "AE_FAMILIE": "FIKTION_ERLAUBNIS",
    "AE_16B": "FIKTION_ERLAUBNIS",
    "AE_18A": "FIKTION_ERLAUBNIS",
    "AE_18B": "AE_16B",
    "BLAUE_KARTE": "AE_16B",
    "AE_22": "ANKUNFTSNACHWEIS",
    "AE_23_2": "ANKUNFTSNACHWEIS",
    "FIKTION_ERLAUBNIS": "ANKUNFTSNACHWEIS",
    "FIKTION_FORTGELTUNG": "AE_25_2_SUB",
    "ANKUNFTSNACHWEIS": "ANKUNFTSNACHWEIS",
}
# Asylum seekers and tolerated persons receive AsylbLG benefits, not SGB II.
ASYLBLG_STATUSES: frozenset[str] = frozenset(
    {
        "ANKUNFTSNACHWEIS",
        "GESTATTUNG",
        "DULDUNG",
        "AUSREISEPFLICHTIG",
        "FIKTION_DULDUNG",
        "AE_25_5",
    }
)
# Titles for work, study or EU free movement: usually no benefits at all.
OWN_INCOME_STATUSES: frozenset[str] = frozenset(
    {
        "AE_16B",
        "AE_18A",
        "AE_18B",
        "BLAUE_KARTE",
        "EU_FREIZUEGIG",
    }
)

CASE_STATUSES: tuple[tuple[str, float], ...] = (
    ("intake", 0.12),
    ("assessment", 0.15),
    ("agreement", 0.15),
    ("active", 0.38),
    ("paused", 0.08),
    ("closed", 0.12),
)
GOAL_FIELDS: tuple[str, ...] = (
    "sprache",
    "arbeit",
    "wohnen",
    "bildung",
    "kinderbetreuung",
    "anerkennung",
    "aufenthalt",
    "finanzen",
    "teilhabe",
    "gesundheit",
)
GOAL_STATUSES: tuple[tuple[str, float], ...] = (
    ("planned", 0.35),
    ("active", 0.40),
    ("achieved", 0.18),
    ("dropped", 0.07),
)
CONSENT_RECIPIENTS: tuple[tuple[str, float], ...] = (
    ("", 0.30),
    ("kim", 0.38),
    ("jobcenter", 0.08),
    ("jobcenter|stadt", 0.07),
    ("caritas|jobcenter", 0.04),
    ("awo|jobcenter|stadt", 0.04),
    ("diakonie|stadt", 0.03),
    ("jobcenter|abh", 0.03),
    ("stadt", 0.03),
)
