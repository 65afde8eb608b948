"""`megacity indicators ...`: the composite-indicator engine on the command line.

Registered in `megacity.cli` with `app.add_typer(indicators_app, name="indicators")`. User
errors print one line starting with `error:` and exit with code 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from megacity.indicators.errors import IndicatorError

app = typer.Typer(
    help="Composite indicators (COINr-compatible pipelines), weights, sensitivity and plan tracking.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
plans_app = typer.Typer(
    help="Plan indicators: targets, progress status, decomposition.", no_args_is_help=True
)
app.add_typer(plans_app, name="plans")

F = TypeVar("F", bound=Callable[..., Any])
IData = Annotated[Path, typer.Option("--idata", help="Indicator data (iData): CSV or xlsx, wide or long.")]
IMeta = Annotated[Path, typer.Option("--imeta", help="Indicator metadata (iMeta): CSV or xlsx.")]
PipelineOpt = Annotated[Path, typer.Option("--pipeline", help="Pipeline YAML (steps: ...).")]


def user_errors(func: F) -> F:
    """Turn IndicatorError into one `error:` line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IndicatorError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command("run")
@user_errors
def run(
    idata: IData,
    imeta: IMeta,
    pipeline: PipelineOpt,
    out: Annotated[Path, typer.Option("--out", help="Result CSV: uCode (Time), one column per iCode.")],
    stages_dir: Annotated[
        Path | None, typer.Option("--stages-dir", help="Also write every stage as CSV, plus log.json.")
    ] = None,
) -> None:
    """Run a pipeline (denominate, impute, screen, treat, normalise, weight, aggregate)."""
    from megacity.indicators.io import load, output_frame, write_table
    from megacity.indicators.pipeline import read_pipeline, write_stages

    steps = read_pipeline(pipeline)
    coin = load(idata, imeta)
    result = steps.run(coin)
    write_table(output_frame(result.final), out)
    if stages_dir is not None:
        write_stages(result, steps, stages_dir)
    typer.echo(f"wrote {out} ({len(result.final.data)} rows, {len(result.final.codes)} columns)")


@app.command("weights")
@user_errors
def weights_cmd(
    method: Annotated[str, typer.Option("--method", help="entropy, ahp, pca or equal.")],
    idata: Annotated[Path | None, typer.Option("--idata", help="iData (entropy, pca).")] = None,
    imeta: Annotated[Path | None, typer.Option("--imeta", help="iMeta (entropy, pca).")] = None,
    pipeline: Annotated[
        Path | None, typer.Option("--pipeline", help="Compute on the last stage of this pipeline.")
    ] = None,
    matrix: Annotated[list[Path] | None, typer.Option("--matrix", help="AHP pairwise matrix CSV.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write iCode,Weight as CSV.")] = None,
) -> None:
    """Compute weights: entropy (熵权法), AHP (prints CR), PCA or equal."""
    from megacity.indicators.weights import ahp_weights, read_ahp_matrix

    rows: list[tuple[str, float]] = []
    if method == "ahp":
        if not matrix:
            raise IndicatorError("weights: --method ahp needs --matrix FILE")
        for file in matrix:
            codes, a = read_ahp_matrix(file)
            result = ahp_weights(a)
            typer.echo(f"{file}: lambda_max={result.lambda_max:.4f} CI={result.ci:.4f} CR={result.cr:.4f}")
            rows += list(zip(codes, result.weights.tolist(), strict=True))
    else:
        rows = _data_weights(method, idata, imeta, pipeline)
    for code, w in rows:
        typer.echo(f"{code}\t{w:.6f}")
    if out is not None:
        import pandas as pd

        from megacity.indicators.io import write_table

        write_table(pd.DataFrame(rows, columns=["iCode", "Weight"]), out)


def _data_weights(
    method: str, idata: Path | None, imeta: Path | None, pipeline: Path | None
) -> list[tuple[str, float]]:
    from megacity.indicators.io import load
    from megacity.indicators.pipeline import Step, read_pipeline

    if method not in ("entropy", "pca", "equal"):
        raise IndicatorError(f"weights: unknown method {method!r} (valid: entropy, ahp, pca, equal)")
    if idata is None or imeta is None:
        raise IndicatorError(f"weights: --method {method} needs --idata and --imeta")
    coin = load(idata, imeta)
    if pipeline is not None:
        coin = read_pipeline(pipeline).run(coin).final
    result = Step(kind="weight", method=method)(coin)
    learned: dict[str, float] = result.learned["weights_"]
    return [(c, learned[c]) for c in coin.framework.indicators]


@app.command("sensitivity")
@user_errors
def sensitivity_cmd(
    idata: IData,
    imeta: IMeta,
    pipeline: PipelineOpt,
    out: Annotated[Path, typer.Option("--out", help="CSV: uCode, nominal rank, median, 5% and 95% ranks.")],
    runs: Annotated[int, typer.Option("--runs", min=2, max=100_000, help="Monte Carlo runs.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    weight_noise: Annotated[
        float, typer.Option("--weight-noise", min=0, max=1, help="Weights vary uniformly by ±this share.")
    ] = 0.25,
    vary: Annotated[
        list[str] | None,
        typer.Option("--vary", help="STEP=method1,method2 alternatives, e.g. normalise=minmax,rank."),
    ] = None,
    sobol: Annotated[
        Path | None, typer.Option("--sobol", help="Also estimate first-order Sobol indices (CSV).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Column to rank (default: the index).")
    ] = None,
) -> None:
    """Monte Carlo over weights and methods: rank intervals per unit (and Sobol indices)."""
    from megacity.indicators.io import load, write_table
    from megacity.indicators.pipeline import read_pipeline
    from megacity.indicators.sensitivity import parse_vary, rank_intervals, sobol_first_order

    steps = read_pipeline(pipeline)
    alternatives = parse_vary(vary or [])
    coin = load(idata, imeta)
    table = rank_intervals(
        coin, steps, runs=runs, seed=seed, weight_noise=weight_noise, alternatives=alternatives, target=target
    )
    write_table(table, out)
    typer.echo(f"wrote {out} ({len(table)} units, {runs} runs)")
    if sobol is not None:
        indices = sobol_first_order(
            coin,
            steps,
            runs=max(runs // 4, 8),
            seed=seed,
            weight_noise=weight_noise,
            alternatives=alternatives,
            target=target,
        )
        write_table(indices, sobol)
        typer.echo(f"wrote {sobol} (first-order Sobol indices of the mean rank shift)")


@plans_app.command("show")
@user_errors
def plans_show(
    system: Annotated[
        str, typer.Argument(help="qiyou_wuxing, social_governance, urban_renewal or safe_beijing.")
    ],
) -> None:
    """Print one of the shipped Beijing indicator systems with provenance."""
    from megacity.indicators.plans import load_system

    for line in load_system(system).describe():
        typer.echo(line)


@plans_app.command("status")
@user_errors
def plans_status(
    plan: Annotated[
        Path,
        typer.Option(
            "--plan",
            help="Plan CSV: indicator,unit,type,baseline_year,baseline,target_year,target,direction.",
        ),
    ],
    actual: Annotated[Path, typer.Option("--actual", help="Actuals CSV: indicator,year,value.")],
    year: Annotated[int, typer.Option("--year", help="Year to assess.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the status table as CSV.")] = None,
) -> None:
    """Progress of each plan indicator: 提前完成 / 达到预期 / 滞后 / 需调整."""
    from megacity.indicators.io import write_table
    from megacity.indicators.plans import progress_table, read_actuals, read_plan

    table = progress_table(read_plan(plan), read_actuals(actual), year)
    for row in table.to_dict("records"):
        typer.echo(f"{row['indicator']}\t{row['actual']}\t{row['expected']}\t{row['status']}")
    if out is not None:
        write_table(table, out)


@plans_app.command("decompose")
@user_errors
def plans_decompose(
    city_target: Annotated[float, typer.Option("--city-target", help="The city-wide target value.")],
    districts: Annotated[Path, typer.Option("--districts", help="CSV: district,weight[,target].")],
    mode: Annotated[
        str, typer.Option("--mode", help="share (targets add up) or rate (weighted mean).")
    ] = "rate",
    tolerance: Annotated[float, typer.Option("--tolerance", min=0, help="Allowed overshoot (share).")] = 0.0,
) -> None:
    """Split a city target into district targets and flag 层层加码 (targets raised on the way down)."""
    from megacity.indicators.plans import check_escalation, read_district_targets

    rows = read_district_targets(districts)
    report = check_escalation(city_target, rows, mode=mode, tolerance=tolerance)
    for line in report.lines():
        typer.echo(line)


def _register_analysis() -> None:
    """`derive` and `analyse ...` live in cli_analysis.py to keep this module short."""
    from megacity.indicators.cli_analysis import register

    register(app, plans_app)


_register_analysis()
