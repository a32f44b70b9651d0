"""Experiments: a validated, versioned, JSON-serialisable description of one training run.

``Experiment.from_dict`` and ``Experiment.load`` refuse an unknown key, a wrong type or an
out-of-range value with an ``ExperimentError`` that names the field, the value and what is
allowed. ``exp.build()`` makes the data set, network and engine; the same experiment and seed give
the same numbers. ``exp.load_data()`` reads the data set once and gives it both as read and as the
network sees it (``ExperimentData``); ``build`` takes it, so that nothing reads a file twice.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dlopt_core.data import datasets, features, files
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.experiment_checks import (
    ExperimentError,
    Section,
    a_boolean,
    a_mapping,
    a_string,
    int_list,
    integer_in,
    number_in,
    number_list,
    one_of,
    str_list,
)
from dlopt_core.train.kernels import train as train_kernels
from dlopt_core.train.network import ACTIVATIONS, INIT_SCHEMES, PARAMETERIZATIONS, Network
from dlopt_core.train.optimizers import (
    OPTIMIZERS,
    Optimizer,
    make_optimizer,
    optimizer_from_dict,
)
from dlopt_core.train.schedules import SCHEDULES, Schedule, make_schedule

VERSION = 1
HISTORY_LIMIT = 4000  # recorded rows an engine keeps (engine.History)
MAX_MEMORY_BYTES = 4 * 2**30  # the most one engine may need, by memory_estimate
MAX_LAYER_LR = 1e10  # a layer's learning-rate factor (optimizer.layer_lr; the map's rates)
MAX_ADVERSARIAL_EPS = 100.0  # FGSM step of training.adversarial_eps; inputs are standardised
DATA_KINDS = (*datasets.GENERATORS, "csv", *datasets.REAL_DATASETS)


def memory_estimate(
    layer_sizes: Sequence[int], n_models: int, batch_rows: int, history_rows: int = HISTORY_LIMIT
) -> int:
    """About how many bytes an engine of ``n_models`` models of this network needs.

    Per model: seven parameter-sized vectors (parameters, three optimizer slots, the Polyak
    average, the best and the initial parameters), the kernels' workspaces for a batch of
    ``batch_rows`` rows (every layer's activations and deltas), and twice the recorded history
    (six metrics a row; appending copies it). Eight bytes a number; the data set is not counted.
    """
    sizes = [int(s) for s in layer_sizes]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    work = sum(math.prod(shape) for shape in train_kernels.workspace_shapes(sizes, batch_rows))
    history = 2 * 6 * max(int(history_rows), 1)
    return 8 * int(n_models) * (7 * n_params + work + history)


def check_memory(
    layer_sizes: Sequence[int], n_models: int, batch_rows: int, history_rows: int = HISTORY_LIMIT
) -> None:
    """Refuse an engine above ``MAX_MEMORY_BYTES`` (see ``memory_estimate``), saying what was
    asked, the estimate and the limit."""
    need = memory_estimate(layer_sizes, n_models, batch_rows, history_rows)
    if need > MAX_MEMORY_BYTES:
        shape = "-".join(str(int(s)) for s in layer_sizes)
        models = f"{n_models} model{'s' if n_models != 1 else ''}"
        raise ExperimentError(
            f"{models} of a {shape} network with batches of {batch_rows} rows need about "
            f"{files.size_text(need)} of memory; the limit is {files.size_text(MAX_MEMORY_BYTES)}"
            ": use fewer models, fewer or narrower layers or smaller batches"
        )


@dataclass(frozen=True)
class DataSpec:
    kind: str = "spiral"
    n_samples: int = 500
    noise: float = 0.04
    val_fraction: float = 0.2
    seed: int = 0
    n_classes: int = 2
    path: str = ""
    standardize: bool = True

    def load(self) -> datasets.Dataset:
        if self.kind == "csv":
            return datasets.load_csv(self.path, self.val_fraction, self.seed, self.standardize)
        if self.kind in datasets.REAL_DATASETS:
            return datasets.load_real(self.kind, self.val_fraction, self.seed, self.standardize)
        return datasets.generate(
            self.kind, self.n_samples, self.noise, self.val_fraction, self.seed, self.n_classes
        )


@dataclass(frozen=True)
class ExperimentData:
    """One read of an experiment's data set: ``raw`` as loaded (its own columns: what a plot of
    the data shows) and ``inputs`` with the experiment's input features (what the network sees;
    the same object as ``raw`` when there are no derived features)."""

    raw: datasets.Dataset
    inputs: datasets.Dataset


@dataclass(frozen=True)
class NetworkSpec:
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    init: str = "xavier"
    init_std: float = 0.1
    features: tuple[str, ...] = features.RAW
    bias: bool = True
    parameterization: str = "standard"

    @property
    def n_layers(self) -> int:
        """Layers with parameters: the hidden layers and the output layer."""
        return len(self.hidden) + 1


CLASSROOM_CONTROLS = (
    "data",
    "features",
    "network",
    "optimizer",
    "learning_rate",
    "schedule",
    "training",
)


@dataclass(frozen=True)
class ClassroomSpec:
    """A teacher's focus for an exercise: controls shown but locked, controls hidden, a note.

    Control groups: data, features, network, optimizer (rule and hyper-parameters other than the
    learning rate), learning_rate, schedule, training (batch size, regularisation, stopping).
    """

    note: str = ""
    locked: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.note or self.locked or self.hidden)


@dataclass(frozen=True)
class Experiment:
    """Everything needed to repeat a run: data, network, optimizer, schedule, training, seed."""

    data: DataSpec = field(default_factory=DataSpec)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    optimizer: Optimizer = field(default_factory=lambda: make_optimizer("adam", lr=0.01))
    schedule: Schedule = field(default_factory=lambda: make_schedule("constant"))
    training: TrainConfig = field(default_factory=lambda: TrainConfig(batch_size=10))
    seed: int = 0
    max_steps: int = 0
    target_loss: float = 0.0
    name: str = ""
    classroom: ClassroomSpec = field(default_factory=ClassroomSpec)
    layer_lr: tuple[float, ...] | None = None  # per-layer learning-rate factors (ModelSpec)

    # -- building ---------------------------------------------------------------------------------
    def load_data(self) -> ExperimentData:
        """The data set, read once, as loaded and with this experiment's input features."""
        data = self.data.load()
        names = features.check(self.network.features, data.X_train.shape[1])
        if data.X_train.shape[1] != 2 or names == features.RAW:
            return ExperimentData(data, data)
        expanded = replace(
            data,
            X_train=features.expand(data.X_train, names),
            X_val=features.expand(data.X_val, names),
            feature_names=names,
        )
        return ExperimentData(data, expanded)

    def dataset(self) -> datasets.Dataset:
        """The data set with this experiment's input features applied."""
        return self.load_data().inputs

    def make_network(self, data: datasets.Dataset) -> Network:
        if data.task == "regression":
            n_out, loss = 1, "mse"
        elif data.task == "multiclass":
            n_out, loss = data.n_classes, "ce"
        else:
            n_out, loss = 1, "bce"
        sizes = [data.X_train.shape[1], *self.network.hidden, n_out]
        return Network(
            sizes,
            self.network.activation,
            loss,
            bias=self.network.bias,
            parameterization=self.network.parameterization,
        )

    def build(
        self,
        models: Sequence[ModelSpec] | None = None,
        backend: str = "cpu",
        *,
        history_limit: int = HISTORY_LIMIT,
        data: ExperimentData | None = None,
    ) -> tuple[datasets.Dataset, Network, Engine]:
        """``(dataset, network, engine)``; by default one model with this optimizer and schedule.

        ``data``: the experiment's data set read already (``load_data``), else it is read here.
        An engine whose memory estimate (``memory_estimate``) exceeds ``MAX_MEMORY_BYTES`` is
        refused with an ``ExperimentError`` that gives the estimate and the limit.
        """
        inputs = (data or self.load_data()).inputs
        net = self.make_network(inputs)
        specs = (
            list(models)
            if models
            else [ModelSpec(self.optimizer, self.schedule, layer_lr=self.layer_lr)]
        )
        rows = min(self.training.batch_size, len(inputs.y_train))
        check_memory(net.layer_sizes, len(specs), rows, history_limit)
        engine = Engine(
            net,
            inputs,
            specs,
            self.training,
            seed=self.seed,
            init=self.network.init,
            init_std=self.network.init_std,
            backend=backend,
            history_limit=history_limit,
        )
        return inputs, net, engine

    # -- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        t = self.training
        return {
            "version": VERSION,
            "name": self.name,
            "seed": self.seed,
            "data": {
                "kind": self.data.kind,
                "n_samples": self.data.n_samples,
                "noise": self.data.noise,
                "val_fraction": self.data.val_fraction,
                "seed": self.data.seed,
                "n_classes": self.data.n_classes,
                "path": self.data.path,
                "standardize": self.data.standardize,
            },
            "network": {
                "hidden": list(self.network.hidden),
                "activation": self.network.activation,
                "init": self.network.init,
                "init_std": self.network.init_std,
                "features": list(self.network.features),
                # written only when they differ from the defaults, which older files mean
                **({} if self.network.bias else {"bias": False}),
                **(
                    {"parameterization": self.network.parameterization}
                    if self.network.parameterization != "standard"
                    else {}
                ),
            },
            "optimizer": {
                **self.optimizer.to_dict(),
                **({"layer_lr": list(self.layer_lr)} if self.layer_lr else {}),
            },
            "schedule": self.schedule.to_dict(),
            "training": {
                "batch_size": t.batch_size,
                "shuffle": t.shuffle,
                "clip_norm": t.clip_norm,
                "l1": t.l1,
                "early_stopping": t.early_stopping,
                "polyak": t.polyak,
                "eval_every": t.eval_every,
                "adversarial_eps": t.adversarial_eps,
                "adversarial_clean_weight": t.adversarial_clean_weight,
            },
            "max_steps": self.max_steps,
            "target_loss": self.target_loss,
            **(
                {
                    "classroom": {
                        "note": self.classroom.note,
                        "locked": list(self.classroom.locked),
                        "hidden": list(self.classroom.hidden),
                    }
                }
                if self.classroom.active
                else {}
            ),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "experiment") -> Experiment:
        """Parse and validate JSON text; ``source`` names it in messages (see ``files``)."""
        return cls.from_dict(files.parse_json(text, source, ExperimentError))

    @classmethod
    def load(cls, path: str | Path) -> Experiment:
        """Read and validate an experiment file (at most ``files.MAX_JSON_BYTES``).

        Every problem, from a missing file to an invalid value, is an ``ExperimentError`` whose
        message starts with the file name. A relative ``data.path`` is read relative to the file's
        folder and kept as an absolute path.
        """
        path = Path(path)
        raw = files.load_json(path, ExperimentError)
        try:
            exp = cls.from_dict(raw)
        except ExperimentError as exc:
            raise ExperimentError(f"{path}: {exc}") from None
        if exp.data.kind == "csv" and not Path(exp.data.path).is_absolute():
            folder = path.resolve().parent
            exp = replace(exp, data=replace(exp.data, path=str(folder / exp.data.path)))
        return exp

    @classmethod
    def from_dict(cls, raw: Any) -> Experiment:
        """Validate a parsed config; missing keys take their defaults."""
        top = Section(raw, "experiment")
        top.get("version", integer_in(1, VERSION), VERSION)
        base = cls()
        data_sec = Section(top.get("data", a_mapping, {}), "data")
        data = DataSpec(
            kind=data_sec.get("kind", one_of(DATA_KINDS), base.data.kind),
            n_samples=data_sec.get("n_samples", integer_in(4, 100_000), base.data.n_samples),
            noise=data_sec.get("noise", number_in(0.0, 10.0), base.data.noise),
            val_fraction=data_sec.get("val_fraction", number_in(0.0, 0.9), base.data.val_fraction),
            seed=data_sec.get("seed", integer_in(0, 2**32 - 1), base.data.seed),
            n_classes=data_sec.get("n_classes", integer_in(2, 8), base.data.n_classes),
            path=data_sec.get("path", a_string, base.data.path),
            standardize=data_sec.get("standardize", a_boolean, base.data.standardize),
        )
        data_sec.done()
        if data.kind == "csv" and not data.path:
            raise ExperimentError("data.path: a csv data set needs the path of its file")
        net_sec = Section(top.get("network", a_mapping, {}), "network")
        net = NetworkSpec(
            hidden=tuple(net_sec.get("hidden", int_list(0, 6, 1, 256), list(base.network.hidden))),
            activation=net_sec.get("activation", one_of(ACTIVATIONS), base.network.activation),
            init=net_sec.get("init", one_of(INIT_SCHEMES), base.network.init),
            init_std=net_sec.get("init_std", number_in(0.0, 100.0), base.network.init_std),
            features=tuple(
                net_sec.get(
                    "features", str_list(tuple(features.FEATURES)), list(base.network.features)
                )
            ),
            bias=net_sec.get("bias", a_boolean, base.network.bias),
            parameterization=net_sec.get(
                "parameterization", one_of(PARAMETERIZATIONS), base.network.parameterization
            ),
        )
        net_sec.done()
        try:
            features.check(net.features, 2)
        except ValueError as exc:
            raise ExperimentError(f"network.features: {exc}") from None
        opt_raw = dict(top.get("optimizer", a_mapping, {"name": "adam", "lr": 0.01}))
        one_of(tuple(OPTIMIZERS))("optimizer.name", opt_raw.setdefault("name", "adam"))
        layer_lr = None
        if opt_raw.get("layer_lr") is not None:
            layer_lr = tuple(
                number_list(net.n_layers, 0.0, MAX_LAYER_LR)(
                    "optimizer.layer_lr", opt_raw["layer_lr"]
                )
            )
        try:
            optimizer = optimizer_from_dict(opt_raw, ignore=("layer_lr",))
        except ValueError as exc:
            raise ExperimentError(f"optimizer: {exc}") from None
        sched_raw = dict(top.get("schedule", a_mapping, {"name": "constant"}))
        sched_name = sched_raw.pop("name", "constant")
        one_of(tuple(SCHEDULES))("schedule.name", sched_name)
        try:
            schedule = make_schedule(sched_name, **sched_raw)
        except ValueError as exc:
            raise ExperimentError(f"schedule: {exc}") from None
        tr = Section(top.get("training", a_mapping, {}), "training")
        bt = base.training
        training = TrainConfig(
            batch_size=tr.get("batch_size", integer_in(1, 100_000), bt.batch_size),
            shuffle=tr.get("shuffle", a_boolean, bt.shuffle),
            clip_norm=tr.get("clip_norm", number_in(0.0, 1e6), bt.clip_norm),
            l1=tr.get("l1", number_in(0.0, 10.0), bt.l1),
            early_stopping=tr.get("early_stopping", integer_in(0, 100_000), bt.early_stopping),
            polyak=tr.get("polyak", number_in(0.0, 0.99999), bt.polyak),
            eval_every=tr.get("eval_every", integer_in(1, 100_000), bt.eval_every),
            adversarial_eps=tr.get(
                "adversarial_eps", number_in(0.0, MAX_ADVERSARIAL_EPS), bt.adversarial_eps
            ),
            adversarial_clean_weight=tr.get(
                "adversarial_clean_weight", number_in(0.0, 1.0), bt.adversarial_clean_weight
            ),
        )
        tr.done()
        room = Section(top.get("classroom", a_mapping, {}), "classroom")
        classroom = ClassroomSpec(
            note=room.get("note", a_string, ""),
            locked=tuple(room.get("locked", str_list(CLASSROOM_CONTROLS), [])),
            hidden=tuple(room.get("hidden", str_list(CLASSROOM_CONTROLS), [])),
        )
        room.done()
        exp = cls(
            data=data,
            network=net,
            optimizer=optimizer,
            schedule=schedule,
            training=training,
            seed=top.get("seed", integer_in(0, 2**32 - 1), base.seed),
            max_steps=top.get("max_steps", integer_in(0, 10**9), base.max_steps),
            target_loss=top.get("target_loss", number_in(0.0, 1e6), base.target_loss),
            name=top.get("name", a_string, base.name),
            classroom=classroom,
            layer_lr=layer_lr,
        )
        top.done()
        return exp


def merge_patch(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the experiment dict ``base`` with ``patch`` applied: nested objects merge key by
    key, any other value (lists included) replaces the old one. Used by presets and questions
    that describe variants of one experiment as small patches."""
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def example() -> Experiment:
    """A complete, sensible experiment: a 2-8-8-1 tanh network learning the spiral with Adam."""
    return Experiment(name="spiral with Adam")
