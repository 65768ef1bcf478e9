"""Twenty viewers read the pages' figures while two loads replace the orders: no error, no mixed version."""

import datetime as dt
import threading

from crmlens import ingest, queries, store

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)


def orders_csv(tmp_path, name: str, n: int):
    path = tmp_path / name
    rows = [f"O{i},C{i % 7},2024-{1 + i % 12:02d}-15,{10 + i}" for i in range(n)]
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_twenty_viewers_see_whole_versions_while_two_loads_replace(tmp_path):
    db = tmp_path / "crm.duckdb"
    # version 1: 30 orders; the two replacements (versions 2 and 3): 300 and 3,000 orders
    sizes = {1: 30, 2: 300, 3: 3000}
    ingest.load_files([orders_csv(tmp_path, "v1.csv", sizes[1])], db=db)
    errors: list[BaseException] = []
    seen: list[list[tuple[int, int]]] = [[] for _ in range(20)]
    loading = threading.Event()
    loading.set()

    def page_run(i: int) -> None:
        snap = store.snapshot(db)  # one snapshot per page run, as ui.begin_run takes it
        kpis = queries.run("overview_kpis", {"start": START, "end": END}, snap=snap).set_index("period")
        seen[i].append((snap.version, int(kpis.loc["current", "n_orders"])))

    def view(i: int) -> None:
        try:
            while len(seen[i]) < 5 or loading.is_set():
                page_run(i)
            page_run(i)  # one run after the loads ended (on a busy machine they can end between two runs)
        except BaseException as e:  # reported below
            errors.append(e)

    def load() -> None:
        try:
            for version in (2, 3):
                ingest.load_files([orders_csv(tmp_path, f"v{version}.csv", sizes[version])], db=db)
        except BaseException as e:
            errors.append(e)
        finally:
            loading.clear()

    threads = [threading.Thread(target=view, args=(i,)) for i in range(20)] + [threading.Thread(target=load)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    for results in seen:
        assert all(sizes[version] == n for version, n in results), results  # figures of one version only
        versions = [v for v, _ in results]
        assert versions == sorted(versions)  # never back to older data
    assert {v for results in seen for v, _ in results} >= {3}
    assert store.snapshot(db).version == 3
