"""dlopt-train: example round trip, training output, one-line errors with exit code 2."""

import csv
import json

import pytest

from dlopt_core.cli import progress as progress_bar
from dlopt_core.cli import train as cli
from dlopt_core.train.experiment import Experiment, example


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "exp.json"
    raw = example().to_dict()
    raw["data"]["n_samples"] = 120
    raw["training"]["eval_every"] = 5
    path.write_text(json.dumps(raw))
    return path


def test_example_round_trips(capsys):
    assert cli.main(["--example"]) == 0
    text = capsys.readouterr().out
    assert Experiment.from_json(text) == example()


def test_train_writes_summary_and_csv(config, tmp_path, capsys):
    out = tmp_path / "metrics.csv"
    code = cli.main(
        [
            str(config),
            "--steps",
            "40",
            "--out",
            str(out),
            "--compare",
            "adam,sgd:lr=0.1,momentum:lr=0.05:momentum=0.8",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""  # stderr is not a terminal here: no progress bar
    lines = captured.out.splitlines()
    assert lines[0].split()[:2] == ["model", "status"]
    assert [ln.split()[0] for ln in lines[2:5]] == [
        "adam",
        "sgd:lr=0.1",
        "momentum:lr=0.05:momentum=0.8",
    ]
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["model"] for r in rows} == {"adam", "sgd:lr=0.1", "momentum:lr=0.05:momentum=0.8"}
    steps = sorted({int(r["step"]) for r in rows})
    assert steps == list(range(0, 41, 5))
    first = [float(r["train_loss"]) for r in rows if r["step"] == "0"]
    assert len(set(first)) == 1  # same initial parameters for every optimizer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "--steps", "5"], "no such file"),
        (["BAD", "--steps", "5"], "not valid JSON"),
        (["INVALID", "--steps", "5"], "training.batch_size"),
        (["GOOD"], "--steps"),
        (["GOOD", "--steps", "5", "--compare", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (["GOOD", "--steps", "5", "--compare", "adam:lr=-2"], "lr = -2.0"),
        (["GOOD", "--steps", "5", "--backend", "tpu"], "invalid choice"),
        (["GOOD", "--steps", "five"], "not a whole number"),
        (["GOOD", "--steps", "5", "--out", "/no/such/folder/m.csv"], "does not exist"),
        ([], "name a config file"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, tmp_path, config, capsys):
    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "invalid.json").write_text(json.dumps({"training": {"batch_size": -3}}))
    subst = {"BAD": tmp_path / "bad.json", "INVALID": tmp_path / "invalid.json", "GOOD": config}
    argv = [str(subst.get(a, a)) for a in args]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("dlopt-train: error:")
    assert message in err
    assert "Traceback" not in err


class _SlowFirstStep:
    """Stands in for ``threading.Timer`` as if the first step outlasted the threshold, which
    only compiling the kernels does."""

    def __init__(self, seconds, fn):
        self.fn = fn
        self.daemon = False

    def start(self):
        self.fn()

    def cancel(self):
        pass


def test_a_first_run_says_it_compiles_and_times_training_alone(config, capsys, monkeypatch):
    monkeypatch.setattr(cli.threading, "Timer", _SlowFirstStep)
    monkeypatch.setattr(progress_bar, "_is_terminal", lambda stream: True)
    assert cli.main([str(config), "--steps", "40"]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[0].startswith("compiling the training kernels")
    compiled = [ln for ln in lines if ln.startswith("compiled in ")]
    assert len(compiled) == 1
    # the bar that follows measures from the end of the first chunk
    after = lines[lines.index(compiled[0]) + 1 :]
    assert after and all("steps/s" in ln or ln.rstrip().endswith("steps") for ln in after)


def test_a_warm_run_says_nothing_about_compiling(config, capsys):
    assert cli.main([str(config), "--steps", "20"]) == 0
    assert "compil" not in capsys.readouterr().err
