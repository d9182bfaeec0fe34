"""The ``clientmgr`` command as an operator uses it, on SQLite and on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from cli_support import run_cli

from clientmgr.core.pix import parse_brcode


def test_demo_starts_the_product_once(database_url, tmp_path):
    assert run_cli("migrate", url=database_url).returncode == 0
    first = run_cli("demo", url=database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Maria Silva" in first.stdout
    assert "R$ 35,90" in first.stdout
    second = run_cli("demo", url=database_url, cwd=tmp_path)
    assert second.stdout.count("Maria Silva") == 1
    assert "3 client(s)" in second.stderr


def test_unmigrated_database_is_refused_with_advice(database_url):
    done = run_cli("accounts", "list", url=database_url)
    assert done.returncode == 1
    assert "clientmgr migrate" in done.stderr


def test_import_reports_bad_lines_and_reimport_updates(database_url, tmp_path):
    assert run_cli("migrate", url=database_url).returncode == 0
    created = run_cli(
        "accounts", "create", "--telegram-id", "77", "--name", "Ana", url=database_url
    )
    account = created.stdout.strip()
    csv_file = tmp_path / "clientes.csv"
    csv_file.write_bytes(
        "nome;telefone;plano;valor;vencimento\n"
        "João Açaí;(11) 98888-7777;Mensal;35,90;10/12/2026\n"
        "Sem DDD;98888-7777;Mensal;35,90;10/12/2026\n"
        "Ana Lúcia;21 99777-6666;Anual;300;05/01/2027\n".encode("cp1252")
    )
    done = run_cli("import", str(csv_file), "-a", account, url=database_url)
    assert done.returncode == 3
    assert "2 new, 0 updated, 1 with errors" in done.stdout
    assert "line 3:" in done.stdout
    assert "DDD" in done.stdout

    exported = tmp_path / "export.csv"
    assert run_cli("export", "-a", account, "-o", str(exported), url=database_url).returncode == 0
    text = exported.read_bytes().decode("utf-8-sig")
    assert "João Açaí" in text
    assert "35,90" in text

    again = run_cli("import", str(exported), "-a", account, url=database_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 new, 2 updated, 0 with errors" in again.stdout
    listed = run_cli("clients", "list", "-a", account, url=database_url)
    assert "2 client(s)" in listed.stderr


def test_other_account_ids_are_not_found(database_url):
    assert run_cli("migrate", url=database_url).returncode == 0
    done = run_cli("export", "-a", "999", url=database_url)
    assert done.returncode == 1
    assert "error:" in done.stderr


def test_pix_prints_a_code_that_parses_and_a_png(tmp_path):
    png = tmp_path / "pix.png"
    done = run_cli(
        "pix",
        "--key",
        "+55 11 98888-7777",
        "--name",
        "Ana Fitness Ltda",
        "--city",
        "São Paulo",
        "--amount",
        "35,90",
        "--txid",
        "PEDIDO42",
        "--png",
        str(png),
        url="sqlite:///unused.db",
    )
    assert done.returncode == 0, done.stderr
    charge = parse_brcode(done.stdout.strip())
    assert charge.amount == Decimal("35.90")
    assert charge.key == "+5511988887777"
    assert charge.city == "Sao Paulo"
    assert charge.name == "Ana Fitness Ltda"
    assert charge.txid == "PEDIDO42"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_pix_with_a_bad_key_says_why(tmp_path):
    done = run_cli(
        "pix", "--key", "123", "--name", "Ana", "--city", "Rio", url="sqlite:///unused.db"
    )
    assert done.returncode == 1
    assert "error:" in done.stderr
    assert "PIX" in done.stderr
