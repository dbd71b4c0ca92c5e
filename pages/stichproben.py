"""Stichproben (B3): draw a stratified random sample of completed Integration tickets and
record for each sampled ticket whether the check confirmed it."""

import logging

import pandas as pd
import streamlit as st

from dashboard import serving
from dashboard.access.viewer import draw_teams, may
from dashboard.core.format import date, number
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries import samples
from dashboard.ui import sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

log = logging.getLogger(__name__)
CHANGED = "geändert seit Ziehung"


def _save_result(viewer, draw_id: int) -> None:
    # A callback runs before the page is drawn again, so progress shows the new result.
    state = st.session_state
    try:
        serving.record_sample_result(
            viewer,
            draw_id,
            state.get("sp_ticket"),
            state.get("sp_ergebnis"),
            state.get("sp_kommentar"),
        )
        state["sp_meldung"] = (
            "success",
            f"Ergebnis für Ticket {state.get('sp_ticket')} gespeichert.",
        )
        state["sp_kommentar"] = ""
    except (ValueError, serving.RecordsBusy) as exc:
        state["sp_meldung"] = ("error", str(exc))
    except Exception:  # the user gets a message, the log the details
        log.exception("recording a sample result failed")
        state["sp_meldung"] = ("error", "Das Ergebnis konnte nicht gespeichert werden.")


def _draw_label(row) -> str:
    drawn_at = pd.Timestamp(row["drawn_at"])
    return (
        f"Nr. {row['draw_id']} – {drawn_at:%d.%m.%Y %H:%M}, {row['drawn_by']} – "
        f"geprüft {number(row['checked'])} von {number(row['items'])}"
    )


def _amount(column, method: str) -> float:
    """The size of the sample in the unit of the chosen method."""
    if method == "per_worker":
        return column.number_input(
            "Tickets je Mitarbeiter/in",
            min_value=1,
            value=samples.DEFAULT_PER_WORKER,
            step=1,
            key="sp_k",
        )
    if method == "size":
        return column.number_input("Tickets insgesamt", min_value=1, value=20, step=1, key="sp_n")
    return column.number_input(
        "Prozent", min_value=0.1, max_value=100.0, value=10.0, step=1.0, format="%.1f",
        key="sp_p",
    )  # fmt: skip


def _draw_form(selection: serving.Selection, team_options: list[str]):
    """The inputs of a new draw: (method, amount, seed text, request of period and teams)."""
    default_from, default_to = samples.default_period(selection.filters.period, selection.as_of)
    c_from, c_to, c_teams = st.columns([1, 1, 2])
    period_from = c_from.date_input(
        "Erledigt von", value=default_from, format="DD.MM.YYYY", key="sp_von"
    )
    period_to = c_to.date_input("Erledigt bis", value=default_to, format="DD.MM.YYYY", key="sp_bis")
    teams = c_teams.multiselect(
        "Teams",
        team_options,
        default=[t for t in selection.filters.teams if t in team_options],
        key="sp_teams",
        placeholder="Alle Integration-Teams",
    )
    c_method, c_amount, c_seed = st.columns([1.3, 1, 1])
    method = samples.METHOD_CHOICES[
        c_method.radio("Umfang", list(samples.METHOD_CHOICES), key="sp_methode")
    ]
    amount = float(_amount(c_amount, method))
    seed_text = c_seed.text_input(
        "Seed",
        key="sp_seed",
        placeholder="leer = zufällig",
        help="Leer lassen für eine neue Zufallsziehung; den Seed einer früheren Ziehung "
        "eintragen, um sie mit denselben Angaben zu wiederholen.",
    )
    chosen = draw_teams(tuple(teams), tuple(team_options), selection.viewer)
    request = dict(period_from=period_from, period_to=period_to, teams=chosen)
    return method, amount, seed_text, request


def _draw(scope: serving.Selection, method: str, amount: float, seed_text: str, request,
          per_worker: pd.DataFrame) -> None:  # fmt: skip
    """Draw, store and announce a sample; refusals become messages."""
    try:
        seed = samples.parse_seed(seed_text)
        seed = samples.new_seed() if seed is None else seed
        params = samples.DrawParams(
            as_of=scope.as_of,
            method=method,
            amount=amount,
            seed=seed,
            population=int(per_worker["population"].sum()),
            **request,
        )
        # Drawn on real identities and recorded as such; `frame` is as the viewer sees it.
        draw_id, frame = serving.draw_sample(scope, params)
    except (ValueError, serving.RecordsBusy) as exc:
        st.error(str(exc))
        return
    # The history below shows the new draw (its selectbox is not drawn yet).
    st.session_state["sp_ziehung"] = draw_id
    st.success(
        f"Stichprobe Nr. {draw_id} gezogen und gespeichert: {number(len(frame))} von "
        f"{number(params.population)} Tickets, Seed {seed}."
    )
    skipped = per_worker.loc[per_worker["quota"] == 0, "worker"].tolist()
    if skipped:
        st.warning(
            "Weniger Tickets als Mitarbeiter/innen: ohne Ticket bleiben die mit den "
            f"wenigsten erledigten Tickets – {', '.join(skipped)}."
        )


def _new_sample(selection: serving.Selection, scope: serving.Selection) -> None:
    """The form of a new draw, the population it would sample and the draw button."""
    st.subheader("Neue Stichprobe ziehen")
    team_options = list(serving.fetch(samples.teams, scope)["team"])
    method, amount, seed_text, request = _draw_form(selection, team_options)
    try:
        samples.check_request(method, amount, request["period_from"], request["period_to"])
        per_worker = serving.fetch(
            samples.allocation, scope, method=method, amount=amount, **request
        )
    except ValueError as exc:
        st.error(str(exc))
        return
    if per_worker.empty:
        st.info(
            "Keine erledigten Integration-Tickets in diesem Zeitraum und diesen Teams – "
            "es gibt nichts zu ziehen."
        )
        return
    st.caption(
        f"Grundgesamtheit: {number(per_worker['population'].sum())} erledigte Tickets von "
        f"{number(len(per_worker))} Mitarbeiter/innen; die Stichprobe umfasst "
        f"{number(per_worker['quota'].sum())} Tickets."
    )
    if may(selection.viewer, "draw_sample") and st.button(
        "Stichprobe ziehen", key="sp_ziehen", type="primary"
    ):
        _draw(scope, method, amount, seed_text, request, per_worker)


def _draw_header(row: pd.Series) -> None:
    """What a stored draw was drawn from, and how far its check has come."""
    st.caption(
        f"Gezogen am {pd.Timestamp(row['drawn_at']):%d.%m.%Y %H:%M} von {row['drawn_by']} · "
        f"Stichtag {date(pd.Timestamp(row['as_of']).date())} · erledigt "
        f"{date(pd.Timestamp(row['period_from']).date())} – "
        f"{date(pd.Timestamp(row['period_to']).date())} · Teams: "
        f"{', '.join(row['teams']) or 'alle Integration-Teams'} · "
        f"{samples.method_label(row['method'], row['amount'])} · "
        f"Grundgesamtheit {number(row['population'])} · **Seed {row['seed']}**"
    )
    checked, total = int(row["checked"]), int(row["items"])
    st.progress(
        checked / total if total else 0.0,
        text=f"geprüft {number(checked)} von {number(total)}"
        f" (bestätigt {number(row['confirmed'])}, "
        f"nicht bestätigt {number(row['not_confirmed'])})",
    )


def _items_table(items: pd.DataFrame) -> None:
    """The sampled tickets as they were at the draw, with their results."""
    changed = items["changed_since_draw"].fillna(False).astype(bool)
    if changed.any():
        st.warning(
            f"{number(changed.sum())} Ticket(s) {CHANGED}: die Tabelle zeigt den Stand bei "
            "der Ziehung; der aktuelle Stand steht auf der Ticket-Seite."
        )
    table = pd.DataFrame(
        {
            "Nr.": items["position"],
            "Ticket": items["ticket_id"].map(widgets.ticket_url),
            "Mitarbeiter/in": items["worker"],
            "Ergebnis": items["result"],
            "Hinweis": changed.map({True: CHANGED, False: ""}),
            "Status bei Ziehung": items["status"].map(STATUS_LABELS),
            "Erledigt am": items["completion_date"],
            "Fällig am": items["due_date"],
            "Eingang": items["receipt_date"],
            "Team": items["team"],
            "Kommentar": items["comment"],
            "Geprüft von": items["checked_by"],
            "Geprüft am": items["checked_at"],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        height=widgets.table_height(len(table), 420),
        placeholder="",  # no result or comment yet: an empty cell, not "None"
        column_config={
            "Ticket": widgets.ticket_column(),
            "Eingang": widgets.date_column("Eingang"),
            "Fällig am": widgets.date_column("Fällig am"),
            "Erledigt am": widgets.date_column("Erledigt am"),
            "Geprüft am": st.column_config.DatetimeColumn("Geprüft am", format="DD.MM.YYYY HH:mm"),
        },
        key="sp_tabelle",
    )


def _result_form(items: pd.DataFrame, draw_id: int, viewer) -> None:
    """Record the check result of one sampled ticket."""
    with st.container(border=True):
        st.markdown("**Ergebnis erfassen**")
        shown = dict(zip(items["ticket_id"], items.itertuples(), strict=True))
        if st.session_state.get("sp_ticket") not in shown:
            st.session_state.pop("sp_ticket", None)
        c_ticket, c_result = st.columns([2, 1])
        c_ticket.selectbox(
            "Ticket",
            list(shown),
            format_func=lambda t: (
                f"{shown[t].position}. {t} – {shown[t].worker} "
                f"({shown[t].result if isinstance(shown[t].result, str) else 'offen'})"
            ),
            key="sp_ticket",
        )
        c_result.selectbox("Ergebnis", samples.RESULTS, key="sp_ergebnis")
        st.text_input("Kommentar (optional)", key="sp_kommentar")
        st.button(
            "Ergebnis speichern",
            key="sp_speichern",
            on_click=_save_result,
            args=(viewer, draw_id),
        )
        message = st.session_state.pop("sp_meldung", None)
        if message:
            (st.success if message[0] == "success" else st.error)(message[1])


def _drawn_samples(selection: serving.Selection) -> None:
    """The stored draws: choose one, see its tickets, record results, download it."""
    st.subheader("Gezogene Stichproben")
    history = serving.records(samples.draws, selection.viewer)
    if history.empty:
        st.info("Noch keine Stichprobe gezogen.")
        return
    labels = {int(r["draw_id"]): _draw_label(r) for _, r in history.iterrows()}
    if st.session_state.get("sp_ziehung") not in labels:
        st.session_state.pop("sp_ziehung", None)
    draw_id = st.selectbox("Stichprobe", list(labels), format_func=labels.get, key="sp_ziehung")
    row = history.set_index("draw_id").loc[draw_id]
    _draw_header(row)
    cursor = serving.connection(selection.viewer)
    try:
        items = serving.records(samples.draw_items, selection.viewer, draw_id, con=cursor)
    finally:
        cursor.close()
    audit_view("Stichprobe", selection, Ziehung=draw_id)
    _items_table(items)
    if may(selection.viewer, "check_sample") and len(items):
        _result_form(items, draw_id, selection.viewer)
    downloads(
        samples.export_frame(items, seed=int(row["seed"])),
        f"stichprobe-{draw_id}",
        key="sp_download",
    )


selection = sidebar.selection()
st.title("Stichproben")
with widgets.guard():
    # A sample has its own period and is always of Integration: only the viewer's scope applies.
    scope = serving.Selection(selection.as_of, viewer=selection.viewer)
    st.caption(
        f"Zufallsstichprobe erledigter Integration-Tickets zur Kontrolle durch die Teamleitung "
        f"(B3), geschichtet nach Mitarbeiter/in. Stichtag {date(selection.as_of)}: später "
        f"Erledigtes zählt nicht. Gleiche Daten, Angaben und Seed ergeben immer dieselbe "
        f"Stichprobe."
    )
    _new_sample(selection, scope)
    _drawn_samples(selection)
