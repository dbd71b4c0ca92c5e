"""Daten: upload exports, the load history, rejected rows and data checks."""

import pandas as pd
import streamlit as st

from dashboard import serving, upload
from dashboard.access.viewer import may
from dashboard.core.format import number
from dashboard.core.months import month_label
from dashboard.core.rules import STATUS_LABELS
from dashboard.queries import quality
from dashboard.ui import audit, sidebar, widgets
from dashboard.ui.downloads import audit_view, downloads

KIND_CHOICES = {"Automatisch erkennen": "auto", "Tickets": "tickets", "Abwesenheiten": "absences"}
ALL_FILES = "Alle Dateien"
RESULTS_KEY = "upload_results"


def _kind(code: str) -> str:
    return quality.KIND_LABELS.get(code, code)


def _upload_section(selection: serving.Selection) -> None:
    st.caption(
        "Ticket- oder Abwesenheitsexporte als CSV (Trennzeichen `;`) oder Excel (.xlsx), "
        f"höchstens {upload.MAX_UPLOAD_MB} MB je Datei. Sie werden genauso geladen wie mit "
        "`ticket-controlling load`; eine bereits geladene Datei ändert nichts."
    )
    files = st.file_uploader(
        "Exportdateien",
        type=[s.lstrip(".") for s in upload.ALLOWED_SUFFIXES],
        accept_multiple_files=True,
        key="upload_files",
        max_upload_size=upload.MAX_UPLOAD_MB,
    )
    kind_label = st.radio(
        "Art der Dateien",
        list(KIND_CHOICES),
        horizontal=True,
        key="upload_kind",
        help="Automatisch: Dateien mit den Spalten Bearbeiter, Von, Bis (ohne Ticket-ID) "
        "gelten als Abwesenheiten, alle anderen als Tickets.",
    )
    if st.button("Laden", key="upload_go", type="primary"):
        if not files:
            st.warning("Bitte zuerst mindestens eine Datei auswählen.")
        else:
            bar = st.progress(0.0, text="Laden beginnt …")

            def show(label: str, fraction: float) -> None:
                bar.progress(min(max(fraction, 0.0), 1.0), text=label)

            try:
                results = upload.load_uploads(
                    serving.config(),
                    [(f.name, f) for f in files],
                    kind=KIND_CHOICES[kind_label],
                    progress=show,
                    who=selection.viewer,
                )
            except upload.UploadFailed as exc:
                st.error(f"Nichts geladen: {exc}")
            else:
                st.session_state[RESULTS_KEY] = (KIND_CHOICES[kind_label], results)
                # Rerun so the sidebar and every figure already read the new database
                # (switched now for this user, not after the background warm-up).
                serving.refresh(selection.viewer)
                st.rerun()
    stored = st.session_state.get(RESULTS_KEY)
    if stored:
        kind, results = stored
        st.subheader("Ergebnis des letzten Ladens")
        for result in results:
            how = "erkannt als" if kind == "auto" else "als"
            text = f"{result.summary()} ({how} {_kind(result.kind)})"
            if result.refused:
                st.error(text)
            elif result.already_loaded_as is not None:
                st.info(text)
            elif result.reconciled:
                st.success(text)
            else:
                st.error(text)


def _history_section(selection: serving.Selection) -> None:
    frame = serving.fetch(quality.load_history, selection)
    if frame.empty:
        st.info("Noch keine Daten geladen. Exporte lassen sich im Bereich „Laden“ hochladen.")
        return
    st.caption(
        "Jeder Ladevorgang mit seinem Abgleich: gelesen = geladen + abgewiesen + Duplikate. "
        "Unabhängig von Stichtag und Filtern."
    )
    shown = pd.DataFrame(
        {
            "Nr.": frame["load_id"],
            "Datei": frame["file_name"],
            "Art": frame["kind"].map(_kind),
            "Beginn": frame["started_at"],
            "Ende": frame["finished_at"],
            "gelesen": frame["rows_read"],
            "geladen": frame["rows_loaded"],
            "abgewiesen": frame["rows_rejected"],
            "Duplikate": frame["rows_duplicate"],
            "neu": frame["records_new"],
            "ersetzt": frame["records_replaced"],
            "Kodierung": frame["encoding"],
            "Abgleich": frame["reconciled"].map({True: "✓", False: "✗"}),
        }
    )
    timestamp = "DD.MM.YYYY HH:mm"
    st.dataframe(
        shown,
        hide_index=True,
        key="history_table",
        column_config={
            "Beginn": st.column_config.DatetimeColumn("Beginn", format=timestamp),
            "Ende": st.column_config.DatetimeColumn("Ende", format=timestamp),
        },
    )


def _rejects_section(selection: serving.Selection) -> None:
    files = serving.fetch(quality.reject_files, selection)
    if files.empty:
        st.info("Keine abgewiesenen Zeilen: alle geladenen Zeilen waren in Ordnung.")
        return
    labels = {ALL_FILES: None} | {
        f"{row.file_name} ({number(row.rejects)})": row.file_name for row in files.itertuples()
    }
    left, right = st.columns(2)
    choice = left.selectbox("Datei", list(labels), key="rejects_file")
    search = right.text_input(
        "Grund enthält",
        key="rejects_search",
        placeholder="z. B. kein Datum",
        help="Sucht im Grund ohne Beachtung der Groß- und Kleinschreibung.",
    )
    frame = serving.fetch(quality.rejected_rows, selection, file_name=labels[choice], search=search)
    if frame.empty:
        st.info("Keine abgewiesene Zeile passt zu dieser Auswahl.")
        return
    st.caption(f"{number(len(frame))} abgewiesene Zeilen")
    shown = pd.DataFrame(
        {
            "Datei": frame["file_name"],
            "Ladevorgang": frame["load_id"],
            "Art": frame["kind"].map(_kind),
            "Datensatz": frame["record"],
            # Plain text, no link: a rejected row's ID may name no stored ticket.
            "Ticket-ID": frame["ticket_id"],
            "Grund": frame["reason"],
            "Rohdaten": frame["raw"],
        }
    )
    st.dataframe(shown, hide_index=True, key="rejects_table")
    downloads(shown, "abgewiesene-zeilen", key="rejects_download")


def _check(title: str, explanation: str, frame: pd.DataFrame, shown, config=None) -> None:
    with st.expander(f"{title}: {number(len(frame))}", expanded=not frame.empty):
        st.caption(explanation)
        if frame.empty:
            st.success("Keine Auffälligkeiten.")
        else:
            widgets.dataframe(shown(frame), hide_index=True, column_config=config or {})


def _checks_section(selection: serving.Selection) -> None:
    audit_view("Datenprüfungen", selection)  # the checks list workers by name
    st.caption(
        f"Stand am Stichtag {selection.as_of:%d.%m.%Y}; Bereich und Team gelten, der Zeitraum "
        "nicht (ein Datenfehler zählt in jedem Monat)."
    )
    days = st.number_input(
        "Lange offen ab (Arbeitstage)",
        min_value=1,
        max_value=500,
        value=quality.DEFAULT_OPEN_DAYS,
        step=1,
        key="quality_open_days",
    )
    date = widgets.date_column
    _check(
        "Bearbeiter aus nur einem Ladevorgang",
        "Alle Tickets dieser Namen stammen aus demselben Ladevorgang: neue Namen (vielleicht "
        "eine Schreibvariante) oder Namen, die in späteren Exporten fehlen. Erst ab zwei "
        "Ladevorgängen mit Tickets aussagekräftig.",
        serving.fetch(quality.single_load_workers, selection),
        lambda f: pd.DataFrame(
            {
                "Bearbeiter": f["worker"],
                "Team": f["team"],
                "Ladevorgang": f["load_id"],
                "Datei": f["file_name"],
                "Tickets": f["tickets"],
                "erster Eingang": f["first_receipt"],
                "letzter Eingang": f["last_receipt"],
            }
        ),
        {"erster Eingang": date("erster Eingang"), "letzter Eingang": date("letzter Eingang")},
    )
    _check(
        "Monate ohne Tickets",
        "Monate zwischen dem ersten und dem letzten Eingangsmonat eines Teams, in denen kein "
        "einziges Ticket einging: fehlt ein Export?",
        serving.fetch(quality.team_gaps, selection),
        lambda f: pd.DataFrame(
            {
                "Bereich": f["area"],
                "Team": f["team"],
                "Monat": [month_label(m) for m in f["month"].dt.date],
            }
        ),
    )
    _check(
        f"Seit mehr als {number(days)} Arbeitstagen offen",
        "Am Stichtag nicht erledigt und vor mehr als der angegebenen Zahl von Arbeitstagen "
        "eingegangen: vergessen, oder fehlt das Erledigt-Datum im Export?",
        serving.fetch(quality.long_open, selection, days=int(days)),
        lambda f: pd.DataFrame(
            {
                "Ticket": f["ticket_id"].map(widgets.ticket_url),
                "Bereich": f["area"],
                "Team": f["team"],
                "Bearbeiter": f["worker"],
                "Eingang": f["receipt_date"],
                "fällig": f["due_date"],
                "Status": f["status"].map(STATUS_LABELS),
                "Arbeitstage offen": f["working_days_open"],
            }
        ),
        {"Ticket": widgets.ticket_column(), "Eingang": date("Eingang"), "fällig": date("fällig")},
    )
    _check(
        "Bearbeiter in mehreren Teams",
        "Derselbe Name kommt in mehr als einem Team vor: ein Teamwechsel oder zwei Personen "
        "gleichen Namens. Teams in der Reihenfolge ihres ersten Tickets.",
        serving.fetch(quality.team_changes, selection),
        lambda f: pd.DataFrame(
            {
                "Bearbeiter": f["worker"],
                "Teams": f["teams"],
                "Tickets je Team": f["tickets_per_team"],
                "Tickets": f["tickets"],
                "erster Eingang": f["first_receipt"],
                "letzter Eingang": f["last_receipt"],
            }
        ),
        {"erster Eingang": date("erster Eingang"), "letzter Eingang": date("letzter Eingang")},
    )
    _check(
        "Abwesenheiten ohne Vertretung",
        "Bis zum Stichtag begonnene Abwesenheiten ohne benannte Vertretung: die offenen "
        "Tickets stehen auf niemandes Wiedervorlage (A4, A8).",
        serving.fetch(quality.absences_without_substitute, selection),
        lambda f: pd.DataFrame(
            {
                "Bearbeiter": f["worker"],
                "von": f["date_from"],
                "bis": f["date_to"],
                "Arbeitstage": f["working_days"],
                "am Stichtag abwesend": f["current"].map({True: "ja", False: "nein"}),
                "Datei": f["file_name"],
            }
        ),
        {"von": date("von"), "bis": date("bis")},
    )
    _check(
        "Abwesenheiten unbekannter Namen",
        "Namen aus dem Abwesenheitsexport ohne ein einziges Ticket: vermutlich anders "
        "geschrieben als im Ticketexport. Daneben der ähnlichste Name mit Tickets.",
        serving.fetch(quality.unknown_absence_workers, selection),
        lambda f: pd.DataFrame(
            {
                "Name": f["worker"],
                "Abwesenheiten": f["absences"],
                "erste ab": f["first_from"],
                "letzte bis": f["last_to"],
                "ähnlichster Name": f["similar_worker"],
                "Ähnlichkeit": f["similarity"],
                "Datei": f["file_name"],
            }
        ),
        {
            "erste ab": date("erste ab"),
            "letzte bis": date("letzte bis"),
            "Ähnlichkeit": widgets.percent_column("Ähnlichkeit"),
        },
    )


selection = sidebar.selection()
st.title("Daten")
with widgets.guard():
    tabs = {
        "Laden": _upload_section if may(selection.viewer, "upload") else None,
        "Ladeprotokoll": _history_section,
        "Abgewiesene Zeilen": _rejects_section,
        "Datenprüfungen": _checks_section,
        "Zugriffsprotokoll": (lambda s: audit.access_log(s.viewer))
        if may(selection.viewer, "read_audit")
        else None,
    }
    tabs = {label: section for label, section in tabs.items() if section is not None}
    for tab, section in zip(st.tabs(list(tabs)), tabs.values(), strict=True):
        with tab:
            section(selection)
