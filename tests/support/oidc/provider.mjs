// A real OpenID provider for kim-hub's sign-in tests: panva's certified oidc-provider with its
// development login form (any login name, any password; the name picks one of ACCOUNTS below).
//
//   node provider.mjs <port> <client_id> <client_secret> <redirect_uri>[,...] [<post_logout_redirect_uri>[,...]]
//
// Prints "ready <issuer>" once it listens. The accounts' claims are shaped like Keycloak's:
// realm roles under realm_access.roles, plus an organisation and districts attribute (mappers
// that add them to the ID token). Consent is granted without asking: the client is first-party.
// RP-initiated logout (end_session_endpoint) is on by default; the optional fifth argument
// registers the addresses it may send the browser back to.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUris, postLogoutUris] = process.argv.slice(2);
const issuer = `http://localhost:${port}`;

const ACCOUNTS = {
  'test-reviewer': { realm_access: { roles: ['offline_access', 'kim-reviewer'] }, organisation: ['caritas', 'jobcenter'], districts: ['01'] },
  'test-operator': { realm_access: { roles: ['kim-operator'] } },
  'test-norole': { realm_access: { roles: ['offline_access'] }, organisation: ['caritas'] },
  'test-tworoles': { realm_access: { roles: ['kim-reviewer', 'kim-operator'] }, organisation: ['caritas'] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris.split(','),
    post_logout_redirect_uris: postLogoutUris ? postLogoutUris.split(',') : [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], kim: ['realm_access', 'organisation', 'districts'] },
  scopes: ['openid', 'kim'],
  conformIdTokenClaims: false, // the mapped claims go into the ID token, as Keycloak's mappers put them
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // the login name is the subject (oidc-provider's sub is the accountId the form gave)
  async findAccount(ctx, id) {
    if (!Object.hasOwn(ACCOUNTS, id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...ACCOUNTS[id] }; } };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid kim');
    grant.addOIDCClaims(['realm_access', 'organisation', 'districts']);
    await grant.save();
    return grant;
  },
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
