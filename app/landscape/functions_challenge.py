"""Loading a challenge into the 2-D functions view, and leaving it for the free choice.

A challenge (one of ``get_challenges()``, or a lesson's race) sets the function, start point, runs
and settings at once and shows its explanation in the banner; its runs replace the free list until
the user leaves it. :class:`ChallengeLoading` is a part of
:class:`app.landscape.functions_view.FunctionView`.
"""

from __future__ import annotations

from app.landscape.functions_ui import MAX_STEPS
from app.landscape.runs import challenge_rows
from dlopt_core.studies import landscape as ls


class ChallengeLoading:
    """Put a challenge's settings into the controls, or go back to the free choice."""

    def load_challenge(self, name: str | ls.Challenge, play: bool = True) -> None:
        """Load a preset of ``get_challenges()``, or any ``Challenge`` (a lesson's race), with its
        function, start, runs and settings; show its explanation."""
        if isinstance(name, ls.Challenge):
            ch = name
            name = ch.name
        else:
            known = ls.get_challenges()
            if name not in known:
                raise ValueError(f"unknown challenge {name!r}; choose one of {', '.join(known)}")
            ch = known[name]
        self.set_playing(False)
        widgets = (
            self.function,
            self.kappa,
            self.angle,
            self.clip,
            self.noise,
            self.seed,
            self.steps,
        )
        for w in widgets:
            w.blockSignals(True)
        self.function.setCurrentIndex(self.function.findData(ch.function))
        if ch.function == "quadratic":
            self.kappa.setValue(float(ch.params.get("kappa", 10.0)))
            self.angle.setValue(float(ch.params.get("angle", 0.0)))
        self.clip.setValue(ch.clip_norm)
        self.noise.setValue(ch.noise)
        self.seed.setValue(ch.seed)
        self.steps.setValue(min(ch.steps, MAX_STEPS))
        for w in widgets:
            w.blockSignals(False)
        self.challenge_runs.clear()
        for row in challenge_rows(ch):
            self.challenge_runs.add(row)
        self.challenge = name
        self.free.hide()
        self.challenge_page.show()
        self.challenge_title.setText(f"Challenge: {ch.title}")
        self._apply_function(reset_lrs=True)  # the free list's rates, for after the challenge
        self._set_start_spins(*ch.start)
        self.start = (float(ch.start[0]), float(ch.start[1]))
        self.banner.show_message("info", f"<b>{ch.title}.</b> " + ch.text.replace("\n", "<br>"))
        self.t = 0
        self._show_results([])
        self.recompute()
        self.status_message.emit(f"Challenge: {ch.title}")
        if play:
            self.set_playing(True)

    def leave_challenge_mode(self, recompute: bool = True) -> None:
        """Back to the free choice of optimizers."""
        if self.challenge is None:
            return
        self.challenge = None
        self.challenge_page.hide()
        self.free.show()
        self.banner.hide()
        if recompute:
            self.recompute()
