"""The command line of digests and alerts: send-due, send, digest add/list/remove, alert add/list/remove."""

from __future__ import annotations

import click

from crmlens import store, viewparams
from crmlens.digest import figures, model, run, storage

db_option = click.option("--db", type=click.Path(dir_okay=False), default=None,
                         help="DuckDB file (default: $CRMLENS_DB or data/crm.duckdb).")


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


def _targets(to, webhooks, kinds, secrets) -> list[model.Target]:
    """--to a@x (repeatable) and --webhook URL --kind K [--secret S] (repeatable, kinds and secrets in the same order;
    one --kind or --secret applies to every webhook)."""
    if webhooks and not kinds:
        raise _fail("--webhook needs --kind wecom|dingtalk|feishu|slack")
    kinds = list(kinds) * len(webhooks) if len(kinds) == 1 else list(kinds)
    secrets = list(secrets) * len(webhooks) if len(secrets) == 1 else list(secrets) + [""] * len(webhooks)
    if len(kinds) != len(webhooks):
        raise _fail("give one --kind, or one --kind per --webhook")
    try:
        return [model.target("email", a) for a in to] + [model.target(k, u, s) for u, k, s in zip(webhooks, kinds, secrets)]
    except model.InvalidSetting as e:
        raise _fail(str(e)) from e


def recipient_options(f):
    f = click.option("--secret", "secrets", multiple=True, help="Signing secret of a DingTalk (SEC...) or Feishu robot.")(f)
    f = click.option("--kind", "kinds", multiple=True, type=click.Choice(model.CHAT_KINDS), help="The webhook's platform.")(f)
    f = click.option("--webhook", "webhooks", multiple=True, help="A team-chat robot's webhook URL (repeatable).")(f)
    f = click.option("--to", "to", multiple=True, help="An e-mail recipient (repeatable).")(f)
    f = click.option("--lang", type=click.Choice(model.LANGUAGES), default="zh", show_default=True,
                     help="Language of the message and of the link.")(f)
    f = click.option("--params", default="", help='The view\'s address parameters, e.g. "segment=business".')(f)
    return f


def _snapshot(db):
    try:
        return store.snapshot(db)
    except store.NoData as e:
        raise _fail(f"no database at {e}; run `python -m crmlens demo` or load CSV files first") from e


def _check_view(db, page: str, params: list[tuple[str, str]]) -> None:
    """Refuse the values the page would refuse on the data as it is now (a value that drops out of the data
    later is left out of the figures, as the page leaves it out, and the message says so)."""
    try:
        snap = store.snapshot(db)
    except store.NoData:
        return
    start, end = figures.view_period(snap, params)
    refused = figures.view_settings(snap, page, params, start, end).refused
    if refused:
        raise _fail(f"--params: {viewparams.Refused(refused)}")


@click.command(name="send-due")
@db_option
@click.option("--alerts-only", is_flag=True, help="Only check the alerts (what runs after every load).")
def send_due_cmd(db, alerts_only) -> None:
    """Send the digests due now, check every alert, and exit (for cron or a systemd timer).

    Example: python -m crmlens send-due
    """
    try:
        report = run.send_due(db, alerts_only=alerts_only)
    except store.NoData as e:
        raise _fail(f"no database at {e}") from e
    except store.StoreBusy as e:
        raise _fail(f"{e}\nThe messages went out; their log could not be written.") from e
    except run.AlreadyRunning as e:
        raise _fail(f"{e}; nothing was sent by this run") from e
    except model.InvalidSetting as e:
        raise _fail(str(e)) from e
    for line in report.lines():
        click.echo(line)


@click.command(name="send")
@db_option
@click.option("--digest", "name", required=True, help="The digest's name.")
@click.option("--now", is_flag=True, help="Send it now, whatever its schedule (a test send).")
def send_cmd(db, name, now) -> None:
    """Send one digest now, to test it (its schedule is unchanged).

    Example: python -m crmlens send --digest weekly-churn --now
    """
    if not now:
        raise _fail("add --now: digests are sent on their schedule by send-due; send only sends now")
    _snapshot(db)
    try:
        report = run.send_now(db, name)
    except KeyError:
        raise _fail(f"no digest named {name!r}; see `python -m crmlens digest list`") from None
    for line in report.lines():
        click.echo(line)
    if not all(d.ok for d in report.deliveries):
        raise _fail("some deliveries failed (recorded)")


def _checked_and_saved(db, make, save):
    """Make a digest or alert from the command's options, refuse what its page would refuse, save it."""
    try:
        item = make()
    except model.InvalidSetting as e:
        raise _fail(str(e)) from e
    _check_view(db, item.page, item.params)
    return save(db, item)


@click.group(name="digest")
def digest_group() -> None:
    """Saved views sent on a schedule."""


@digest_group.command(name="add")
@click.argument("name")
@db_option
@click.option("--page", required=True, type=click.Choice(model.PAGES))
@click.option("--schedule", required=True, help="daily, weekly:mon..sun or monthly:1..31.")
@recipient_options
def digest_add(name, db, page, schedule, params, lang, to, webhooks, kinds, secrets) -> None:
    """Add a digest (or replace the one of the same name).

    Example: python -m crmlens digest add weekly-churn --page churn --params "segment=business"
    --to a@example.com --schedule weekly:mon --lang zh
    """
    d = _checked_and_saved(db, lambda: model.make_digest(name, page, params, _targets(to, webhooks, kinds, secrets),
                                                         schedule, lang, "cli"), storage.save_digest)
    click.echo(f"digest {d.name} (revision {d.revision}): {d.page} {d.schedule} {d.lang} -> "
               + ", ".join(t.masked() for t in d.targets))


@digest_group.command(name="list")
@db_option
def digest_list(db) -> None:
    """List the digests."""
    for d in storage.digests(_snapshot(db)):
        sent = d.last_sent_at.isoformat(timespec="minutes") if d.last_sent_at else "never"
        params = "&".join(f"{k}={v}" for k, v in d.params)
        click.echo(f"{d.name}\t{d.page}\t{params or '-'}\t{d.schedule}\t{d.lang}\tlast sent {sent}\t"
                   + ", ".join(t.masked() for t in d.targets))


@digest_group.command(name="remove")
@click.argument("name")
@db_option
def digest_remove(name, db) -> None:
    """Remove a digest."""
    if not storage.remove(db, "digest", name):
        raise _fail(f"no digest named {name!r}")
    click.echo(f"digest {name} removed")


@click.group(name="alert")
def alert_group() -> None:
    """Rules on a figure, sent once when they become true and once when they clear."""


@alert_group.command(name="add")
@click.argument("name")
@db_option
@click.option("--metric", required=True, type=click.Choice(list(model.ALERT_METRICS)))
@click.option("--above", type=float, default=None, help="Fire when the figure is above this (rates as 0-1).")
@click.option("--below", type=float, default=None, help="Fire when the figure is below this.")
@recipient_options
def alert_add(name, db, metric, above, below, params, lang, to, webhooks, kinds, secrets) -> None:
    """Add an alert (or replace the one of the same name).

    Example: python -m crmlens alert add churn-high --metric churn_rate --above 0.2 --to a@example.com --lang en
    """
    if (above is None) == (below is None):
        raise _fail("give exactly one of --above and --below")
    operator, threshold = ("above", above) if above is not None else ("below", below)
    a = _checked_and_saved(db, lambda: model.make_alert(name, metric, operator, threshold, params,
                                                        _targets(to, webhooks, kinds, secrets), lang, "cli"),
                           storage.save_alert)
    click.echo(f"alert {a.name} (revision {a.revision}): {a.metric} {a.operator} {a.threshold:g} -> "
               + ", ".join(t.masked() for t in a.targets))


@alert_group.command(name="list")
@db_option
def alert_list(db) -> None:
    """List the alerts and whether each holds now."""
    for a in storage.alerts(_snapshot(db)):
        state = "FIRING" if a.is_firing else "quiet"
        click.echo(f"{a.name}\t{a.metric} {a.operator} {a.threshold:g}\t{state}\tlast value "
                   f"{'-' if a.last_value is None else f'{a.last_value:g}'}\t" + ", ".join(t.masked() for t in a.targets))


@alert_group.command(name="remove")
@click.argument("name")
@db_option
def alert_remove(name, db) -> None:
    """Remove an alert."""
    if not storage.remove(db, "alert", name):
        raise _fail(f"no alert named {name!r}")
    click.echo(f"alert {name} removed")


COMMANDS = (send_due_cmd, send_cmd, digest_group, alert_group)
