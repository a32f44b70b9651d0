"""Every experiment question of the bank gives the answer its explanation states for each of 20
seeds (the data's and the run's), so that the lesson it teaches does not depend on the one seed
the question happens to use. New experiment questions need an entry in ``EXPECTED``.

The runs are the questions' own, small by design; the whole file takes about a minute on one
core (most of it in the three runs with 2-32-32-1 networks).
"""

from __future__ import annotations

import dataclasses

import pytest

from dlopt_core.course.quiz import load_bank, run_experiment
from dlopt_core.train.experiment import Experiment, merge_patch

SEEDS = range(20)
#: the answer each explanation states: the text of the right option, or yes / no
EXPECTED = {
    "experiment-adaptive-race": "Adam",
    "experiment-adagrad-rmsprop": "RMSProp",
    "experiment-basic-race": "SGD with momentum, η = 0.1, μ = 0.9",
    "experiment-sgd-diverges": True,
    "experiment-overfitting": True,
    "experiment-zero-init": True,
    "experiment-random-init": False,
    "experiment-clipping": False,
    "experiment-early-stopping": True,
    "experiment-small-init": "Xavier",
    "experiment-batch-scaling": "Batches of 40, η = 0.2",
    "experiment-weight-decay": "Adam with L2, weight_decay = 0.01",
}
BANK = load_bank()
QUESTIONS = [q for q in BANK.questions if q.type == "experiment"]


def with_seed(question, seed: int):
    return dataclasses.replace(
        question, preset=merge_patch(question.preset, {"seed": seed, "data": {"seed": seed}})
    )


def test_every_experiment_question_has_an_expected_answer():
    assert {q.id for q in QUESTIONS} == set(EXPECTED)


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_the_answer_holds_for_20_seeds(question):
    expected = EXPECTED[question.id]
    for seed in SEEDS:
        report = run_experiment(with_seed(question, seed))
        if isinstance(expected, bool):
            got = report.answer
        else:
            got = question.options[report.answer]
            assert not report.values["tied"], (seed, report.lines)
        assert got == expected, (seed, report.lines)
    if isinstance(expected, bool):  # the explanation starts with the answer
        assert question.explanation.startswith("Yes" if expected else "No")


def test_early_stopping_stops_for_the_right_reason():
    """It stops after a real minimum of the validation loss, not on a plateau at the start."""
    question = BANK.by_id("experiment-early-stopping")
    patience = question.preset["training"]["early_stopping"]
    every = question.preset["training"]["eval_every"]
    for seed in SEEDS:
        _, _, engine = Experiment.from_dict(with_seed(question, seed).preset).build()
        engine.run(question.compute["steps"])
        best = int(engine.history.best_val_step[0])
        assert best >= 100, seed
        assert int(engine.stop_step[0]) == best + patience * every
        val = engine.history.field("val_loss", 0)
        assert val[0] > 1.05 * engine.history.best_val_loss[0], seed  # it did improve first
