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


def _record(viewer, draw_id: int, changes: pd.DataFrame) -> None:
    """Record each changed result; the message says what was saved (shown after the rerun)."""
    saved, failed = [], []
    for ticket_id, result, comment in changes.itertuples(index=False):
        try:
            serving.record_sample_result(viewer, draw_id, ticket_id, result, comment or None)
            saved.append(ticket_id)
        except (ValueError, serving.RecordsBusy) as exc:
            failed.append(str(exc))
        except Exception:  # the user gets a message, the log the details
            log.exception("recording a sample result failed")
            failed.append(f"Das Ergebnis für Ticket {ticket_id} konnte nicht gespeichert werden.")
    if saved:
        st.session_state["sp_meldung"] = (
            "success",
            f"{number(len(saved))} Ergebnis(se) gespeichert: {', '.join(saved)}.",
        )
    elif not failed:
        st.session_state["sp_meldung"] = ("info", "Keine neuen oder geänderten Ergebnisse.")
    if failed:
        st.session_state["sp_fehler"] = failed
    # a fresh editor shows the stored results, without the edits on top
    st.session_state["sp_editor_run"] = st.session_state.get("sp_editor_run", 0) + 1
    st.rerun()


def _draw_label(row) -> str:
    drawn_at = pd.Timestamp(row["drawn_at"])
    return (
        f"Nr. {row['sample_no']} – {drawn_at:%d.%m.%Y %H:%M}, {row['drawn_by']} – "
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
        f"Stichprobe Nr. {serving.sample_number(scope.viewer, draw_id)} gezogen und "
        f"gespeichert: {number(len(frame))} von "
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


def _items_frame(items: pd.DataFrame) -> pd.DataFrame:
    changed = items["changed_since_draw"].fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "Nr.": items["position"],
            "Ticket": items["ticket_id"].map(widgets.ticket_url),
            "Mitarbeiter/in": items["worker"],
            "Ergebnis": items["result"],
            "Kommentar": items["comment"],
            "Hinweis": changed.map({True: CHANGED, False: ""}),
            "Status bei Ziehung": items["status"].map(STATUS_LABELS),
            "Erledigt am": items["completion_date"],
            "Fällig am": items["due_date"],
            "Eingang": items["receipt_date"],
            "Team": items["team"],
            "Geprüft von": items["checked_by"],
            "Geprüft am": items["checked_at"],
        }
    )


ITEM_COLUMNS = {
    "Ticket": widgets.ticket_column(),
    # the longest status, "Zusage nicht eingehalten", in full
    "Status bei Ziehung": st.column_config.TextColumn("Status bei Ziehung", width=175),
    "Eingang": widgets.date_column("Eingang"),
    "Fällig am": widgets.date_column("Fällig am"),
    "Erledigt am": widgets.date_column("Erledigt am"),
    "Geprüft am": st.column_config.DatetimeColumn("Geprüft am", format="DD.MM.YYYY HH:mm"),
}


def _items_table(items: pd.DataFrame, draw_id: int, viewer) -> None:
    """The sampled tickets as they were at the draw, with their results; those who check
    enter the results of all rows at once in the table's Ergebnis and Kommentar columns."""
    changed = items["changed_since_draw"].fillna(False).astype(bool)
    if changed.any():
        st.warning(
            f"{number(changed.sum())} Ticket(s) {CHANGED}: die Tabelle zeigt den Stand bei "
            "der Ziehung; der aktuelle Stand steht auf der Ticket-Seite."
        )
    table = _items_frame(items)
    if not (may(viewer, "check_sample") and len(items)):
        st.dataframe(
            table,
            hide_index=True,
            height="content",
            placeholder="",  # no result or comment yet: an empty cell, not "None"
            column_config=ITEM_COLUMNS,
            key="sp_tabelle",
        )
        return
    st.caption(
        "Ergebnis und Kommentar direkt in der Tabelle eintragen (Doppelklick auf die Zelle), "
        "dann „Ergebnisse speichern“. Leer gelassene Zeilen bleiben ungeprüft."
    )
    with st.form(f"sp_form_{draw_id}", border=False):
        edited = st.data_editor(
            table,
            hide_index=True,
            height="content",
            placeholder="",
            num_rows="fixed",
            disabled=[c for c in table.columns if c not in ("Ergebnis", "Kommentar")],
            column_config={
                **ITEM_COLUMNS,
                "Ergebnis": st.column_config.SelectboxColumn(
                    "Ergebnis", options=list(samples.RESULTS), width="medium"
                ),
                "Kommentar": st.column_config.TextColumn("Kommentar", width="medium"),
            },
            key=f"sp_editor_{draw_id}_{st.session_state.get('sp_editor_run', 0)}",
        )
        submitted = st.form_submit_button(
            "Ergebnisse speichern", type="primary", key="sp_speichern"
        )
    if submitted:
        entered = pd.DataFrame(
            {
                "ticket_id": items["ticket_id"].to_numpy(),
                "result": edited["Ergebnis"].to_numpy(),
                "comment": edited["Kommentar"].to_numpy(),
            }
        )
        _record(viewer, draw_id, samples.result_changes(items, entered))
    _messages()
    _import(items, draw_id, viewer)


def _messages() -> None:
    message = st.session_state.pop("sp_meldung", None)
    if message:
        getattr(st, message[0])(message[1])
    for failure in st.session_state.pop("sp_fehler", []):
        st.error(failure)


def _import(items: pd.DataFrame, draw_id: int, viewer) -> None:
    """Results from the filled-in download (CSV or XLSX) of this sample."""
    with st.container(border=True):
        st.markdown("**Ergebnisse aus der ausgefüllten Datei übernehmen**")
        upload = st.file_uploader(
            "Ausgefüllte Stichprobe (CSV oder Excel, wie heruntergeladen)",
            type=["csv", "xlsx"],
            key=f"sp_datei_{draw_id}_{st.session_state.get('sp_editor_run', 0)}",
        )
        if upload is None:
            return
        try:
            frame = samples.read_results_file(upload.name, upload.getvalue())
            changes, notes = samples.results_from_file(frame, items, draw_id)
        except ValueError as exc:
            st.error(str(exc))
            return
        except Exception:  # an unreadable file: say so, log the details
            log.exception("reading a sample file failed")
            st.error("Die Datei konnte nicht gelesen werden (CSV oder Excel der Stichprobe).")
            return
        for note in notes:
            st.warning(note)
        st.caption(f"{number(len(changes))} neue oder geänderte Ergebnisse in der Datei.")
        if len(changes) and st.button("Ergebnisse übernehmen", key="sp_import", type="primary"):
            _record(viewer, draw_id, changes)


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
    _items_table(items, draw_id, selection.viewer)
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
