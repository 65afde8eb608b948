"""`megacity classify …`: train, apply and evaluate the dispatch text classifier.

Registered by ``megacity.cli`` as a sub-app. User errors (missing column, unreadable file,
unusable model) print one ``error: …`` line on stderr and exit 2; notes and progress go to
stderr, results to stdout or the output file. scikit-learn is imported only when a command runs.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from megacity.cli_options import Database, ProfileOpt, build_app
from megacity.io.rows import UnreadableFileError, clean_text
from megacity.io.tabular import normalize_header, open_table

__all__ = ["app", "read_columns"]

app = typer.Typer(
    help="Classify request texts for smart dispatch: train a model, predict labels, evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Data = Annotated[Path, typer.Option("--data", help="CSV or xlsx file (UTF-8; GB18030 CSV also read).")]
TextColumn = Annotated[str, typer.Option("--text-column", help="Column holding the message text.")]
TitleColumn = Annotated[
    str | None, typer.Option("--title-column", help="Column holding the title (optional, improves accuracy).")
]
LabelColumn = Annotated[str, typer.Option("--label-column", help="Column holding the class label.")]


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def note(message: str) -> None:
    """A remark for the user on stderr."""
    typer.echo(message, err=True)


def _resolve(header: tuple[str, ...], wanted: str, path: Path) -> str:
    """The header name that ``wanted`` refers to: exact after stripping, else loosely equal."""
    name = clean_text(wanted) or ""
    if name in header:
        return name
    loose = normalize_header(name)
    matches = [column for column in header if loose and normalize_header(column) == loose]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(column for column in header if column)
    fail(f"{path.name}: no column {wanted!r} (columns: {shown})")


def read_columns(path: Path, columns: list[str | None]) -> list[list[str | None]]:
    """The cleaned cells of the given columns, one list per column (``None`` column: all None).

    Blank records are not rows (as everywhere in megacity), so row numbers match what a person
    counts in a spreadsheet. A missing column or an unreadable file ends the command (exit 2).
    """
    try:
        table = open_table(path)
        names = [_resolve(table.header, column, path) if column else None for column in columns]
        out: list[list[str | None]] = [[] for _ in columns]
        for record in table.records():
            for values, name in zip(out, names, strict=True):
                values.append(clean_text(record.cells.get(name)) if name else None)
    except UnreadableFileError as exc:
        fail(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
    return out


@dataclass
class Labelled:
    texts: list[str | None]
    titles: list[str | None] | None
    labels: list[str]


def read_labelled(data: Path, text: str, title: str | None, label: str) -> Labelled:
    """Rows with a label and some text; says on stderr how many were skipped and why."""
    texts, titles, labels = read_columns(data, [text, title, label])
    keep = [i for i, value in enumerate(labels) if value]
    if len(keep) < len(labels):
        note(f"skipped {len(labels) - len(keep)} row(s) with an empty label")
    empty = [i for i in keep if not texts[i] and not titles[i]]
    if empty:
        note(f"skipped {len(empty)} labelled row(s) with neither text nor title")
        keep = [i for i in keep if texts[i] or titles[i]]
    if not keep:
        fail(f"{data.name}: no labelled rows with text")
    return Labelled(
        [texts[i] for i in keep],
        [titles[i] for i in keep] if title else None,
        [str(labels[i]) for i in keep],
    )


def _check_output_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        fail(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "meta.json").exists():
        fail(f"{folder} is a folder with other files in it; give a new or empty folder, or an old model's")


@app.command("train")
def train_command(
    data: Data,
    text_column: TextColumn,
    label_column: LabelColumn,
    model: Annotated[Path, typer.Option("--model", help="Folder to write the model to (created).")],
    title_column: TitleColumn = None,
) -> None:
    """Train a classifier on labelled rows and save it to a folder (model.joblib + meta.json)."""
    from megacity.nlp.classifier import train

    _check_output_folder(model)
    rows = read_labelled(data, text_column, title_column, label_column)
    classes = sorted(set(rows.labels))
    if len(classes) < 2:
        fail(f"need at least two different labels to train, {data.name} has {len(classes)}")
    note(f"training on {len(rows.labels)} rows, {len(classes)} classes …")
    try:
        classifier = train(rows.texts, rows.labels, rows.titles)
    except ValueError as exc:  # e.g. one class left once conflicting duplicates are dropped
        fail(f"{data.name}: {exc}")
    meta = classifier.meta
    if meta["dropped_conflicting"] or meta["dropped_repeated"]:
        note(
            f"left out {meta['dropped_conflicting']} row(s) with identical text but conflicting labels "
            f"and {meta['dropped_repeated']} repeated row(s)"
        )
    meta["source"] = {"file": data.name, "text_column": text_column, "title_column": title_column}
    try:
        classifier.save(model)
    except OSError as exc:
        fail(f"cannot write {model}: {exc.strerror or exc}")
    typer.echo(f"trained {meta['version']}: {meta['training_size']} rows, {len(classes)} classes -> {model}")


@app.command("predict")
def predict_command(
    model: Annotated[Path, typer.Option("--model", help="Model folder made by `classify train`.")],
    data: Data,
    text_column: TextColumn,
    out: Annotated[Path, typer.Option("--out", help="CSV to write: label, confidence, top3.")],
    title_column: TitleColumn = None,
) -> None:
    """Predict a label for every row: writes label, confidence (0-1) and top3 (a|b|c) in row order."""
    from megacity.nlp.classifier import ModelError, TextClassifier

    try:
        classifier = TextClassifier.load(model)
    except ModelError as exc:
        fail(str(exc))
    texts, titles = read_columns(data, [text_column, title_column])
    if classifier.uses_title and not title_column:
        note("note: the model was trained with titles; without --title-column it sees the text only")
    predictions = classifier.predict(texts, titles if title_column else None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["label", "confidence", "top3"])
            for p in predictions:
                writer.writerow([p.label, f"{p.confidence:.4f}", "|".join(label for label, _ in p.top)])
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"predicted {len(predictions)} rows -> {out}")


@app.command("evaluate")
def evaluate_command(
    data: Data,
    text_column: TextColumn,
    label_column: LabelColumn,
    title_column: TitleColumn = None,
    folds: Annotated[int, typer.Option("--folds", min=2, max=50, help="Folds per repeat.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", min=1, max=50, help="Repeats (seeds 0…n-1).")] = 5,
) -> None:
    """Repeated stratified cross-validation: macro-F1, accuracy, per-class F1, confusion matrix."""
    from megacity.nlp.evaluate import cross_validate, format_report

    rows = read_labelled(data, text_column, title_column, label_column)
    note(f"evaluating on {len(rows.labels)} rows: {folds} folds x {repeats} repeats …")
    show = _progress if sys.stderr.isatty() else None
    try:
        result = cross_validate(
            rows.texts, rows.labels, rows.titles, folds=folds, repeats=repeats, progress=show
        )
    except ValueError as exc:
        fail(f"{data.name}: {exc}")
    finally:
        if show:
            sys.stderr.write("\r\033[K")
    for line in result.notes:
        note(f"warning: {line}")
    typer.echo(format_report(result))


def _progress(message: str) -> None:
    sys.stderr.write(f"\r\033[K{message}")
    sys.stderr.flush()


@app.command("retrain")
def retrain_command(
    database: Database = None,
    profile: ProfileOpt = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Model folder (default: MEGACITY_DISPATCH_MODEL or <files>/models/dispatch)."
        ),
    ] = None,
    base_data: Annotated[
        list[Path] | None,
        typer.Option(
            "--base-data", help="Labelled CSV/xlsx base data (repeatable); default: the database's requests."
        ),
    ] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Text column of --base-data.")] = "text",
    title_column: Annotated[
        str | None, typer.Option("--title-column", help="Title column of --base-data.")
    ] = "title",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Label column of --base-data (catalogue leaf codes).")
    ] = "category_code",
    if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing if the model exists.")] = False,
) -> None:
    """Train the dispatch model from base data plus the corrections of disputes and human dispatch."""
    from megacity.routing.training import Examples, retrain
    from megacity.services.dispatch import model_path

    mc = build_app(database, profile)
    folder = model or model_path(mc.settings)
    if if_missing and (folder / "meta.json").exists():
        typer.echo(f"model exists: {folder}")
        return
    _check_output_folder(folder)
    base: Examples | None = None
    for path in base_data or []:
        rows = read_labelled(path, text_column, title_column, label_column)
        base = base or Examples()
        titles = rows.titles or [None] * len(rows.texts)
        for title, text, label in zip(titles, rows.texts, rows.labels, strict=True):
            base.add(title, text, label)
    note("training the dispatch model …")
    try:
        classifier, used = retrain(mc, folder, base)
    except ValueError as exc:
        fail(f"cannot train: {exc}")
    except OSError as exc:
        fail(f"cannot write {folder}: {exc.strerror or exc}")
    meta = classifier.meta
    typer.echo(
        f"trained {meta['version']}: {meta['training_size']} rows, {len(meta['labels'])} classes, "
        f"{len(used)} correction(s) -> {folder}"
    )


@app.command("disputes")
def disputes_command(
    database: Database = None,
    profile: ProfileOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, max=1000, help="Rows per table.")] = 15,
    out: Annotated[Path | None, typer.Option("--out", help="Also write every row to this CSV.")] = None,
) -> None:
    """Dispute (派单异议) statistics: the most disputed categories and units, with dispute rates."""
    from megacity.routing.disputes import dispute_stats

    stats = dispute_stats(build_app(database, profile))
    rate = stats.disputed / stats.dispatched if stats.dispatched else 0.0
    typer.echo(f"dispatches {stats.dispatched}  disputes {stats.disputed}  rate {rate:.3f}")
    for title, rows in (("category", stats.by_category), ("unit", stats.by_unit)):
        typer.echo(f"\n{title:<10} dispatched disputed rate  redispatched rejected  name")
        for row in rows[:top]:
            typer.echo(
                f"{row.code:<10} {row.dispatched:>10} {row.disputed:>8} {row.rate:5.3f} "
                f"{row.redispatched:>12} {row.rejected:>8}  {row.name}"
            )
    if out is not None:
        try:
            with out.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    ["by", "code", "name", "dispatched", "disputed", "rate", "redispatched", "rejected"]
                )
                for by, rows in (("category", stats.by_category), ("unit", stats.by_unit)):
                    for row in rows:
                        writer.writerow(
                            [
                                by,
                                row.code,
                                row.name,
                                row.dispatched,
                                row.disputed,
                                f"{row.rate:.4f}",
                                row.redispatched,
                                row.rejected,
                            ]
                        )
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
