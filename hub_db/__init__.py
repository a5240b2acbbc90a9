"""What the hub stores: SQLAlchemy models, migrations, and one module per stored concern."""
