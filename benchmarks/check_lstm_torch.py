"""The core's LSTM against PyTorch's ``nn.LSTM`` + ``nn.Linear`` on the same weights, in float64.

    python benchmarks/check_lstm_torch.py [--write]

For each case (a loss, sizes, sequence length, batch, weight scale) the same flat parameter vector
goes into ``dlopt_core.train.lstm.LSTMNetwork`` and, through ``unflatten``, into the PyTorch
modules; the
mean loss and every gradient (PyTorch's autograd, mapped back with ``flatten``) must agree to
1e-10. A PyTorch-initialised model is also mapped the other way (``flatten`` of its weights).
Then 200 Adam steps on the adding task, with the same batches in both, must end at the same
parameters. Needs PyTorch (``pip install torch==2.13.0``, a CPU build); it is not a dependency
of dlopt. Exit code 0 when everything agrees, 1 when something does not, 2 without PyTorch.
``--write`` puts the table into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlopt_core import lstm  # noqa: E402
from dlopt_core.train.optimizers import make_optimizer  # noqa: E402

TOLERANCE = 1e-10
START, END = "<!-- lstm-torch -->", "<!-- /lstm-torch -->"
# loss, input size, hidden size, outputs, steps, sequences, weight scale (0: PyTorch's own init)
CASES = (
    ("mse", 2, 8, 1, 20, 32, 0.3),
    ("mse", 3, 5, 4, 7, 70, 1.0),
    ("bce", 4, 6, 1, 12, 65, 0.5),
    ("ce", 3, 7, 5, 9, 40, 0.8),
    ("mse", 2, 4, 2, 60, 16, 2.0),  # long sequences, saturated gates
    ("ce", 5, 16, 3, 15, 128, 0.0),
)


def torch_modules(torch, net: lstm.LSTMNetwork, theta: np.ndarray | None):
    """``nn.LSTM`` and ``nn.Linear`` holding ``theta`` (or their own initialisation)."""
    rnn = torch.nn.LSTM(net.input_size, net.hidden_size, batch_first=True).double()
    head = torch.nn.Linear(net.hidden_size, net.output_size).double()
    if theta is not None:
        params = net.unflatten(theta)
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(rnn, name).copy_(torch.from_numpy(params[name]))
            head.weight.copy_(torch.from_numpy(params["out_w"]))
            head.bias.copy_(torch.from_numpy(params["out_b"]))
    return rnn, head


def flat_of(net: lstm.LSTMNetwork, rnn, head, grad: bool = False) -> np.ndarray:
    """The modules' weights (or their gradients) as one flat vector of ``net``'s layout."""

    def value(p):
        return (p.grad if grad else p).detach().numpy()

    return net.flatten(
        {
            **{
                name: value(getattr(rnn, name))
                for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
            },
            "out_w": value(head.weight),
            "out_b": value(head.bias),
        }
    )


def torch_loss(torch, rnn, head, X: np.ndarray, y: np.ndarray, loss: str):
    F = torch.nn.functional
    out, _ = rnn(torch.from_numpy(X))
    z = head(out[:, -1])
    target = torch.from_numpy(y)
    if loss == "mse":
        return F.mse_loss(z, target.reshape(z.shape))
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z[:, 0], target)
    return F.cross_entropy(z, target.long())


def check_case(torch, case, rng: np.random.Generator) -> dict:
    loss, n_in, hidden, n_out, T, n, scale = case
    net = lstm.LSTMNetwork(n_in, hidden, n_out, loss)
    X = rng.normal(size=(n, T, n_in))
    if loss == "mse":
        y = rng.normal(size=(n, n_out))
    elif loss == "bce":
        y = rng.integers(0, 2, n).astype(np.float64)
    else:
        y = rng.integers(0, n_out, n).astype(np.float64)
    if scale > 0.0:
        theta = rng.normal(0.0, scale, net.n_params)
        rnn, head = torch_modules(torch, net, theta)
    else:  # PyTorch's own initialisation, read into the flat vector
        rnn, head = torch_modules(torch, net, None)
        theta = flat_of(net, rnn, head)
    value, grad = net.loss_and_grad(theta, X, y)
    t_loss = torch_loss(torch, rnn, head, X, y, loss)
    t_loss.backward()
    t_grad = flat_of(net, rnn, head, grad=True)
    round_trip = np.array_equal(flat_of(net, *torch_modules(torch, net, theta)), theta)
    return {
        "case": f"{loss}, I={n_in} H={hidden} O={n_out}, T={T}, N={n}, "
        + (f"weights N(0, {scale:g}^2)" if scale > 0 else "PyTorch's init"),
        "loss": abs(value - float(t_loss.detach())),
        "grad": float(np.max(np.abs(grad - t_grad))),
        "grad_scale": float(np.max(np.abs(t_grad))),
        "round_trip": round_trip,
    }


def check_training(torch, steps: int = 200) -> float:
    """Max |theta - theta_torch| after ``steps`` Adam steps with the same batches."""
    data = lstm.adding_task(256, 20, 0.0, seed=3)
    net = lstm.LSTMNetwork(2, 8, 1, "mse")
    trainer = lstm.SequenceTrainer(
        net, data, make_optimizer("adam", lr=0.01), batch_size=32, seed=3, eval_every=steps
    )
    rnn, head = torch_modules(torch, net, trainer.theta_init)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.01)
    for t in range(steps):
        rows = trainer.batch_rows(t)
        opt.zero_grad()
        torch_loss(torch, rnn, head, data.X_train[rows], data.y_train[rows], "mse").backward()
        opt.step()
    trainer.run(steps)
    return float(np.max(np.abs(trainer.theta - flat_of(net, rnn, head))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 (a CPU build), then run again")
        return 2
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = [check_case(torch, case, rng) for case in CASES]
    drift = check_training(torch)
    ok = (
        all(r["loss"] <= TOLERANCE and r["grad"] <= TOLERANCE and r["round_trip"] for r in rows)
        and drift <= TOLERANCE
    )
    lines = [
        f"Checked {date.today().isoformat()} with PyTorch {torch.__version__}, NumPy "
        f"{np.__version__}, Python {platform.python_version()} (float64; tolerance "
        f"{TOLERANCE:g}): {'all agree' if ok else 'DISAGREEMENT'}.",
        "",
        "| case | max abs. loss difference | max abs. gradient difference | largest gradient |",
        "|---|---:|---:|---:|",
        *(
            f"| {r['case']} | {r['loss']:.1e} | {r['grad']:.1e} | {r['grad_scale']:.2g} |"
            for r in rows
        ),
        "",
        "Every case's flat vector also goes into the PyTorch modules and back unchanged. After "
        f"200 Adam steps (lr 0.01) on the adding task with the same batches, the parameters "
        f"differ by at most {drift:.1e}.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text()
        if START in old:
            before, rest = old.split(START, 1)
            after = rest.split(END, 1)[1]
            readme.write_text(f"{before}{START}\n{text}\n{END}{after}")
        else:
            print(f"{readme} has no {START} section: nothing written")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
