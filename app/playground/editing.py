"""From the Playground's panels to its experiment and back.

A panel edit makes a new :class:`Experiment`; what changed decides what happens: data, features,
network, seed, batch size, shuffling or Polyak averaging rebuild the engine (back to step 0); the
optimizer, schedule, clipping, L1, early stopping, evaluation interval and stop conditions apply at
the next chunk. A teacher's exercise locks or hides control groups. :class:`ExperimentEditing` is
a part of :class:`app.playground.tab.PlaygroundTab`, which holds the widgets and the controller.
"""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtWidgets import QFileDialog, QFormLayout

from dlopt_core.data import datasets, features
from dlopt_core.train.experiment import Experiment


class ExperimentEditing:
    """Show an experiment in the panels, and turn the panels' edits into a new one."""

    @property
    def experiment(self) -> Experiment:
        """The experiment the panels show and the worker runs."""
        return self._exp

    def set_experiment(self, exp: Experiment) -> None:
        """Show ``exp`` in the panels and rebuild the engine for it (keeps play/pause)."""
        self._exp = exp
        self._show_in_panels(exp)
        self.controller.set_stop_conditions(exp.max_steps, exp.target_loss)
        self._rebuild()

    def _show_in_panels(self, exp: Experiment) -> None:
        self.data_panel.set_spec(exp.data)
        self.features_panel.set_features(exp.network.features)
        self.network_panel.set_spec(exp.network)
        self.network_panel.set_layer_lr(exp.layer_lr)
        self.optimizer_panel.set_optimizer(exp.optimizer)
        self.optimizer_panel.set_schedule(exp.schedule)
        self.training_panel.set_values(exp.training, exp.max_steps, exp.target_loss)
        self._apply_classroom(exp.classroom)

    def _apply_classroom(self, room) -> None:
        """A teacher's exercise: lock (disable) or hide control groups, and show the note."""
        op = self.optimizer_panel
        groups = {
            "data": (self.data_panel,),
            "features": (self.features_panel,),
            "network": (self.network_panel,),
            "optimizer": (op.combo, op.hyper_box),
            "learning_rate": (op.lr,),
            "schedule": (op.schedule, op.sched_box),
            "training": (self.training_panel,),
        }
        for name, widgets in groups.items():
            for w in widgets:
                w.setEnabled(name not in room.locked)
                visible = name not in room.hidden
                form = w.parentWidget().layout() if w.parentWidget() else None
                if isinstance(form, QFormLayout) and form.indexOf(w) >= 0:
                    form.setRowVisible(w, visible)
                else:
                    w.setVisible(visible)
        lines = []
        if room.note:
            lines.append(f"<b>Exercise:</b> {html.escape(room.note)}")
        if room.locked:
            lines.append(
                "Locked by the exercise: "
                + ", ".join(n.replace("_", " ") for n in room.locked)
                + "."
            )
        self.classroom_note.setText("<br>".join(lines))
        self.classroom_note.setVisible(bool(lines))

    def _collect(self) -> Experiment:
        net = self.network_panel.spec(self.features_panel.features())
        max_steps, target = self.training_panel.stops()
        return replace(
            self._exp,
            data=self.data_panel.spec(),
            network=net,
            optimizer=self.optimizer_panel.optimizer(),
            schedule=self.optimizer_panel.schedule_value(),
            training=self.training_panel.config(),
            max_steps=max_steps,
            target_loss=target,
            layer_lr=self.network_panel.layer_lr(),
        )

    def _data_changed(self) -> None:
        kind = self.data_panel.spec().kind
        if kind not in datasets.GENERATORS:  # derived features need 2-D data
            self.features_panel.set_features(features.RAW)
        self._panel_changed()

    def _panel_changed(self) -> None:
        try:
            new = self._collect()
        except ValueError as exc:
            self.statusMessage.emit(str(exc))
            return
        self._apply(new)

    def _apply(self, new: Experiment) -> None:
        old = self._exp
        if new == old:
            return
        self._exp = new
        t0, t1 = old.training, new.training
        if (
            new.data != old.data
            or new.network != old.network
            or new.seed != old.seed
            or t0.restart_key() != t1.restart_key()
        ):
            self._rebuild()
        else:
            if new.optimizer != old.optimizer:
                self.controller.set_optimizer(new.optimizer)
            if new.schedule != old.schedule:
                self.controller.set_schedule(new.schedule)
            if new.layer_lr != old.layer_lr:
                self.controller.set_layer_lr(new.layer_lr)
            if t0 != t1:
                self.controller.set_training(t1)
            if (new.max_steps, new.target_loss) != (old.max_steps, old.target_loss):
                self.controller.set_stop_conditions(new.max_steps, new.target_loss)
                self._banner_key = None
        self.experimentEdited.emit()

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a CSV data set", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.data_panel.set_csv_path(path)
        else:
            self.data_panel.cancel_csv()
