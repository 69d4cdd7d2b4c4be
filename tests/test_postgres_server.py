import psycopg


def test_postgres_fixture_accepts_password_login_over_tcp(postgres):
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("select current_setting('server_version_num')::int").fetchone()[0] >= 150000


def test_postgres_fixture_rejects_a_wrong_password(postgres):
    import pytest
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.dsn.replace(postgres.password, "wrong"))
