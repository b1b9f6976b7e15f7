"""Training-step throughput of the foundation models: jaxgen vs the same networks in PyTorch.

    pip install -e '.[bench]'           # torch==2.13.0 (CPU), only for this script
    python experiments/benchmark.py --bf16 --rounds 3 --steps 8 --out experiments/results/benchmark_mixed.json

Both sides train the same architecture (DCGAN down/up stacks at width 64, 32x32x1, batch 64) with the
same optimizers and the same number of updates per step (WGAN: its usual 5 critic + 1 generator, not the
boosted critic schedule of its first steps). style_aae is the handwriting-style AAE of configs/style_aae.py
(GroupNorm convs, AdamW 4e-4, a discriminator update and an autoencoder update per step) - the original
repository's train-aae model, at jaxgen's 32x32 inputs. vae, ae_mlp and aae are the originals' MLP models
(configs of the same names). --bf16 adds jaxgen in mixed precision (runtime.compute_dtype=bfloat16) and
PyTorch under bf16 autocast. Each PyTorch side runs in a process of its own (TorchWorker). Runs are
interleaved (jax, jax bf16, each PyTorch side, repeat) and the 1-minute load average is recorded beside
each, because this machine is shared. images/s = batch size x training steps per second. Each jaxgen step
is compiled twice into an empty persistent cache: cold, then from the cache.

On a GPU (JAX's default backend 'gpu'; experiments/benchmark_gpu.sh) the PyTorch sides run on CUDA, fp32 and
bf16 autocast, with no thread variants; their time is n steps between two device synchronisations, as a
training loop that does not read a loss every step would see it. The peaks are then an 8192^3 matmul.

Each jaxgen step also reports its achieved GFLOP/s (the model's FLOPs a step, `model_flops`, divided by
the measured time) as a fraction of this machine's matmul peak for its operand dtype, float32 or bfloat16
with float32 accumulation, measured at the start of the same run; the CPU model (with its bf16 units) and
the peaks are in the output file. `--recount FILE` rewrites an older file's shares with that count.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

MODELS = ("classifier", "ae", "gan", "wgan", "style_aae", "vae", "ae_mlp", "aae")
MLP_MODELS = ("vae", "ae_mlp", "aae")  # the originals' MLP models: VAE 784-400-2, MLP AE, AAE 784-1000-1000
FLOPS_COUNTED = "model_flops: unoptimised HLO, conv_impl=xla, repeated updates written out"


# ----------------------------------------------------------------------------------------- jaxgen


def build_step(name: str, batch: int, conv_impl: str, steps_per_call=1, dtype="float32", unroll=False):
    """(the jitted multi-step of configs/<name>.py, its arguments for `steps_per_call` steps), on random
    uint8 images and labels held on the first device; unroll: see `unrolled`."""
    import importlib.util

    import jax
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxgen import runtime
    from jaxgen.data import feeds
    from jaxgen.step import make_multi_step

    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    config.train.batch_size = batch
    config.runtime.conv_impl = conv_impl
    config.runtime.compute_dtype = dtype
    if "critic_boost" in config.model:  # time WGAN's usual step (n_critic critic updates), as PyTorch's
        config.model.critic_boost = config.model.n_critic  # not the 100-update boost of its first steps
    family = runtime.build_family(config)
    family = unrolled(family) if unroll else family
    keys = runtime.Keys.from_seed(0)
    mesh = jax.make_mesh((1,), ("data",), axis_types=(AxisType.Auto,), devices=jax.devices()[:1])
    replicated = NamedSharding(mesh, P())
    state = {"ts": jax.device_put(runtime.init_state(family, keys.init), replicated)}
    n = 60_000
    rng = np.random.default_rng(0)
    data = jax.device_put(
        {
            "images": rng.integers(0, 256, (n, 32, 32, 1), dtype=np.uint8),
            "labels": rng.integers(0, 10, (n,)).astype(np.int32),
        },
        replicated,
    )
    plan = feeds.batch_plan(keys.data, 0, n)
    multi_step = make_multi_step(family, batch, mesh, slots=1)
    return multi_step, (state["ts"], data, plan, 0, keys.train, steps_per_call)


def unrolled(family):
    """`family` with each repeated update written out as its usual number of single updates (WGAN's five
    critic updates): an ordinary step's work without the loop, whose body XLA's cost analysis counts once."""
    import dataclasses

    updates = []
    for update in family.updates:
        n = update.repeat if isinstance(update.repeat, int) else update.repeat.usual
        updates += [dataclasses.replace(update, repeat=1)] * n
    return dataclasses.replace(family, updates=tuple(updates))


def model_flops(name: str, batch: int, dtype: str) -> float:
    """FLOPs of one ordinary training step of the model: XLA's count over the unoptimised HLO of the step
    with XLA's own convolutions (conv_impl=xla) and its repeated updates written out (`unrolled`).

    The same count on every backend, and no compiled step's: a compiled GPU step hands its convolutions
    to cuDNN as custom calls that XLA's cost analysis counts as no FLOPs (the DCGAN step: 0.37 of 26.7
    GFLOP), a loop body counts once (WGAN's critic loop: one of five updates), and the CPU lowering's
    matmul forms multiply zero taps too (DCGAN 34.7 GFLOP in mixed precision), work the model does not need.
    """
    multi_step, args = build_step(name, batch, "xla", 1, dtype, unroll=True)
    cost = multi_step.lower(*args).cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"])


def jax_runner(name: str, batch: int, conv_impl: str, steps_per_call: int = 1, dtype: str = "float32"):
    """Return a function that runs `steps_per_call` training steps (one compiled call, blocking)."""
    import jax

    multi_step, args = build_step(name, batch, conv_impl, steps_per_call, dtype)
    state = {"ts": args[0]}
    _, data, plan, _, train_key, _ = args
    start = time.perf_counter()
    multi_step.lower(*args).compile()  # cold: main() points the persistent cache at a new folder
    compile_s = time.perf_counter() - start
    jax.clear_caches()  # forget the in-memory executable: the next compile reads the persistent cache
    start = time.perf_counter()
    multi_step.lower(*args).compile()
    cached_compile_s = time.perf_counter() - start
    flops = model_flops(name, batch, dtype)

    def step():
        state["ts"], metrics = multi_step(state["ts"], data, plan, 0, train_key, steps_per_call)
        jax.block_until_ready((state["ts"], metrics))

    step.flops = flops
    step.compile_s, step.cached_compile_s = compile_s, cached_compile_s
    return step


def recount(path: Path) -> None:
    """Rewrite a recorded file's GFLOP/s and shares of the peak with `model_flops` (lowered on this
    machine): for files recorded before it, which counted compiled steps."""
    results = json.loads(path.read_text())
    peaks, flops = results["peak_gflops"], {}
    for run in results["runs"]:
        if not run["side"].startswith("jax"):
            continue
        key = (run["model"], run["side"])
        if key not in flops:
            dtype = "bfloat16" if "bf16" in run["side"] else "float32"
            flops[key] = model_flops(run["model"], results["batch"], dtype)
            print(f"{run['model']:10s} {run['side']:10s} {flops[key] / 1e9:.3f} GFLOP a step")
        run["gflops"] = flops[key] / run["s_per_step"] / 1e9
        run["peak_fraction"] = run["gflops"] / peaks["bfloat16" if "bf16" in run["side"] else "float32"]
    results["flops_counted"] = FLOPS_COUNTED + " (by --recount)"
    results["summary"] = summarize(results["runs"])
    path.write_text(json.dumps(results, indent=2) + "\n")


def measured_peaks(shape: tuple[int, int, int] = (4096, 1024, 1024), rounds: int = 3) -> dict[str, float]:
    """GFLOP/s of an (m, k) @ (k, n) matmul, float32 and bfloat16 operands accumulating in float32: this
    machine's ceiling for each, measured in the same run as the steps (float32 at JAX's default precision,
    the one the steps use)."""
    import jax
    import jax.numpy as jnp

    m, k, n = shape
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.random((m, k)), jnp.float32)
    b = jnp.asarray(rng.random((k, n)), jnp.float32)
    ops = {
        "float32": jax.jit(lambda a, b: a @ b),
        "bfloat16": jax.jit(
            lambda a, b: jnp.matmul(
                a.astype(jnp.bfloat16), b.astype(jnp.bfloat16), preferred_element_type=jnp.float32
            )
        ),
    }
    peaks = {}
    for name, op in ops.items():
        op(a, b).block_until_ready()
        best = min(_timed(lambda op=op: op(a, b).block_until_ready()) for _ in range(rounds))
        peaks[name] = 2 * m * k * n / best / 1e9
    return peaks


def _timed(fn, n: int = 10) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


# ----------------------------------------------------------------------------------------- PyTorch


def torch_runner(name: str, batch: int, threads: int, bf16: bool = False, device: str = "cpu"):
    """The same networks, losses and optimizers in PyTorch; returns a one-step function.

    bf16: forward passes under autocast to bfloat16 (PyTorch's mixed precision), backward outside it.
    device: 'cpu' or 'cuda'; every tensor and parameter is created there.
    """
    import contextlib

    import torch
    from torch import nn

    def fwd():
        return torch.autocast(device, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    torch.set_num_threads(threads)
    torch.set_default_device(device)
    torch.manual_seed(0)
    width, latent = 64, 100

    def down(widths=(64, 128, 256, 512), batch_norm=True):
        layers, c = [], 1
        for i, w in enumerate(widths):
            layers.append(nn.Conv2d(c, w, 4, 2, 1, bias=i == 0 or not batch_norm))
            if i > 0 and batch_norm:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.LeakyReLU(0.2))
            c = w
        return nn.Sequential(*layers, nn.Flatten())

    class Up(nn.Module):
        def __init__(self, z_dim, widths=(256, 128, 64)):
            super().__init__()
            self.project = nn.Linear(z_dim, 16 * widths[0], bias=False)
            self.bn0 = nn.BatchNorm2d(widths[0])
            body, c = [], widths[0]
            for w in widths[1:]:
                body += [nn.ConvTranspose2d(c, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
                c = w
            body.append(nn.ConvTranspose2d(c, 1, 4, 2, 1))
            self.body, self.c0 = nn.Sequential(*body), widths[0]

        def forward(self, z):
            return self.body(torch.relu(self.bn0(self.project(z).view(-1, self.c0, 4, 4))))

    flat = 2 * 2 * 8 * width
    x = torch.rand(batch, 1, 32, 32)
    y = torch.randint(0, 10, (batch,))
    adam = dict(lr=2e-4, betas=(0.5, 0.999))

    if name == "classifier":
        net = nn.Sequential(down(), nn.Linear(flat, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd():
                loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()

        return step
    if name == "ae":
        enc, dec = nn.Sequential(down(), nn.Linear(flat, latent)), Up(latent)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], **adam)

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd():
                recon = torch.sigmoid(dec(enc(x)))
            nn.functional.mse_loss(recon.float(), x).backward()
            opt.step()

        return step

    if name == "style_aae":
        return style_aae_torch_step(x, y, batch, fwd)
    if name in MLP_MODELS:
        return mlp_torch_step(name, x[:, :, 2:30, 2:30].reshape(batch, 784), fwd)

    wgan = name == "wgan"
    gen, disc = Up(latent), nn.Sequential(down(batch_norm=not wgan), nn.Linear(flat, 1))  # as configs/wgan.py
    if wgan:
        opt_g = torch.optim.RMSprop(gen.parameters(), lr=5e-5)
        opt_d = torch.optim.RMSprop(disc.parameters(), lr=5e-5)
    else:
        opt_g, opt_d = torch.optim.Adam(gen.parameters(), **adam), torch.optim.Adam(disc.parameters(), **adam)
    bce = nn.functional.binary_cross_entropy_with_logits
    real = x * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        for _ in range(5 if wgan else 1):
            opt_d.zero_grad(set_to_none=True)
            with torch.no_grad(), fwd():
                fake = torch.tanh(gen(torch.randn(batch, latent)))
            with fwd():
                r, f = disc(real).float(), disc(fake).float()
            loss = (f.mean() - r.mean()) if wgan else bce(r, ones) + bce(f, zeros)
            loss.backward()
            opt_d.step()
            if wgan:
                with torch.no_grad():
                    for p in disc.parameters():
                        p.clamp_(-0.01, 0.01)
        opt_g.zero_grad(set_to_none=True)
        with fwd():
            f = disc(torch.tanh(gen(torch.randn(batch, latent)))).float()
        (-f.mean() if wgan else bce(f, ones)).backward()
        opt_g.step()

    return step


def mlp_torch_step(name: str, x, fwd):
    """configs/vae.py, ae_mlp.py and aae.py in PyTorch on the digit's 784 pixels (x [B, 784] in [0, 1]):
    the VAE 784-400-2 (Bernoulli decoder on a fresh binarisation, Adam 1e-3); the MLP AE
    784-512-512-100 and back (sigmoid, per-pixel MSE); the AAE 784-1000-1000-2 and back with its
    2-1000-1000-1 code discriminator (a discriminator update, then reconstruction + 0.05 x fooling)."""
    import torch
    from torch import nn

    def mlp(*sizes):
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        layers = [m for a, b in pairs for m in (nn.Linear(a, b), nn.ReLU())]
        return nn.Sequential(*layers[:-1])

    bce = nn.functional.binary_cross_entropy_with_logits
    if name == "vae":
        enc, dec = mlp(784, 400, 4), mlp(2, 400, 784)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            binary = torch.bernoulli(x)
            with fwd():
                mean, log_var = enc(binary).float().chunk(2, dim=1)
                z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
                logits = dec(z).float()
            recon = bce(logits, binary, reduction="none").sum(1)
            kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
            (recon + kl).mean().backward()
            opt.step()

        return step
    adam = dict(lr=2e-4, betas=(0.5, 0.999))
    if name == "ae_mlp":
        enc, dec = mlp(784, 512, 512, 100), mlp(100, 512, 512, 784)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], **adam)

        def step():
            opt.zero_grad(set_to_none=True)
            with fwd():
                recon = torch.sigmoid(dec(enc(x)).float())
            nn.functional.mse_loss(recon, x).backward()
            opt.step()

        return step
    enc, dec, disc = mlp(784, 1000, 1000, 2), mlp(2, 1000, 1000, 784), mlp(2, 1000, 1000, 1)
    opt_ae = torch.optim.Adam([*enc.parameters(), *dec.parameters()], **adam)
    opt_d = torch.optim.Adam(disc.parameters(), **adam)
    ones, zeros = torch.ones(len(x), 1), torch.zeros(len(x), 1)

    def step():
        opt_d.zero_grad(set_to_none=True)
        disc.requires_grad_(True)
        with fwd():
            with torch.no_grad():
                codes = enc(x)
            real, fake = disc(torch.randn(len(x), 2)).float(), disc(codes).float()
        (bce(real, ones) + bce(fake, zeros)).backward()
        opt_d.step()
        opt_ae.zero_grad(set_to_none=True)
        disc.requires_grad_(False)  # the autoencoder's update does not differentiate D's weights
        with fwd():
            codes = enc(x)
            logits, judged = dec(codes).float(), disc(codes).float()
        (bce(logits, x) + 0.05 * bce(judged, ones)).backward()
        opt_ae.step()

    return step


def style_aae_torch_step(x, y, batch: int, fwd, style: int = 4):
    """configs/style_aae.py in PyTorch: encoder -> (10 logits, style), decoder (one-hot, style) -> image,
    digit-aware discriminator; one discriminator and one autoencoder AdamW update per step, each encoding
    its batch (jaxgen's updates each draw and encode their own; as in the AAE's step); forward passes
    under `fwd` (autocast or none)."""
    import torch
    from torch import nn

    def block(c_in, c_out, k, stride, groups):
        conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        return [conv, nn.GroupNorm(groups, c_out), nn.ReLU()]

    enc = nn.Sequential(*block(1, 16, 5, 2, 4), *block(16, 32, 3, 1, 8), nn.MaxPool2d(3, 2, 1), nn.Flatten(),
                        nn.Linear(32 * 8 * 8, 10 + style))  # fmt: skip
    dec = nn.Sequential(nn.Linear(10 + style, 32 * 8 * 8), nn.Unflatten(1, (32, 8, 8)),
                        nn.Upsample(scale_factor=2), *block(32, 32, 3, 1, 8),
                        nn.Upsample(scale_factor=2), *block(32, 4, 3, 1, 2),
                        nn.Conv2d(4, 1, 3, 1, 1))  # fmt: skip
    disc = nn.Sequential(nn.Linear(10 + style, 64), nn.ReLU(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 1))
    opt_ae = torch.optim.AdamW([*enc.parameters(), *dec.parameters()], lr=4e-4)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=4e-4)
    bce = nn.functional.binary_cross_entropy_with_logits
    onehot = nn.functional.one_hot(y, 10).float()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        opt_d.zero_grad(set_to_none=True)
        disc.requires_grad_(True)
        with fwd():
            with torch.no_grad():
                code = enc(x)[:, 10:].float()
            real = torch.cat([onehot, torch.randn(batch, style)], 1)
            judged_real, judged_fake = disc(real).float(), disc(torch.cat([onehot, code], 1)).float()
        (bce(judged_real, ones) + bce(judged_fake, zeros)).backward()
        opt_d.step()
        opt_ae.zero_grad(set_to_none=True)
        disc.requires_grad_(False)  # the autoencoder's update does not differentiate D's weights
        with fwd():
            out = enc(x).float()
        logits, code = out[:, :10], out[:, 10:]
        with fwd():
            recon = torch.sigmoid(dec(torch.cat([onehot, code], 1)).float())
            judged = disc(torch.cat([onehot, code], 1)).float()
        loss = (recon - x).abs().mean() + nn.functional.cross_entropy(logits, y) + 0.1 * bce(judged, ones)
        loss.backward()
        opt_ae.step()

    return step


class TorchWorker:
    """One PyTorch side in a process of its own: its OpenMP threads and allocator never share a process
    with XLA's thread pool (in one process, the small MLP steps of PyTorch ran up to 40x slower). The
    process lives for the whole run and builds each model's step in turn (`build`)."""

    def __init__(self, batch: int, threads: int, bf16: bool = False, device: str = "cpu"):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_torch_serve, args=(child, batch, threads, bf16, device), daemon=True
        )
        self.process.start()
        self.conn.recv()  # ready: PyTorch imported (and CUDA initialised)

    def build(self, name: str) -> None:
        """Build `name`'s step (networks, optimizers, data) and drop the last model's."""
        self.conn.send(("build", name))
        self.conn.recv()

    def time(self, n: int, warmup: int) -> float:
        self.conn.send(("time", n, warmup))
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.process.join()


def _torch_serve(conn, batch: int, threads: int, bf16: bool, device: str) -> None:
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else None
    if sync:
        torch.backends.cudnn.benchmark = True  # PyTorch's fastest conv setting (tuned in the warm-up steps)
        torch.zeros(1, device=device)  # create the CUDA context before 'ready'
    conn.send("ready")
    step = None
    while (request := conn.recv()) is not None:
        if request[0] == "build":
            step = None  # free the last model's tensors first
            step = torch_runner(request[1], batch, threads, bf16, device)
            conn.send("built")
        else:
            conn.send(time_steps(step, *request[1:], sync=sync))


# ----------------------------------------------------------------------------------------- timing


def time_steps(step, n: int, warmup: int, sync=None) -> float:
    """Median seconds per step over n steps after warmup (compilation included in warmup); with `sync`
    (a device synchronisation), the mean over n steps queued between two synchronisations."""
    for _ in range(warmup):
        step()
    if sync is not None:
        sync()
        start = time.perf_counter()
        for _ in range(n):
            step()
        sync()
        return (time.perf_counter() - start) / n
    times = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions of every measurement")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per measurement")
    parser.add_argument("--conv-impl", default="auto", choices=["auto", "xla", "cpu"])
    parser.add_argument(
        "--steps-per-call", type=int, default=0, help="jaxgen steps per lax.scan call; 0: the trainer's"
    )
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument(
        "--torch-steps", type=int, default=0, help="PyTorch's timed steps on a GPU; 0: as many as jaxgen's"
    )
    parser.add_argument("--bf16", action="store_true", help="also time bfloat16 compute on both sides")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--recount", type=Path, help="count a recorded file's FLOPs again, then stop")
    args = parser.parse_args()
    if args.recount:
        return recount(args.recount)

    import tempfile

    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # on a GPU, PyTorch's workers share it
    import jax

    # a new, empty persistent cache: each step's first compile is cold, its second reads the cache
    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="jaxgen-bench-xla-"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    from jaxgen.step import DEFAULT_STEPS_PER_CALL

    backend = jax.default_backend()
    k = args.steps_per_call or DEFAULT_STEPS_PER_CALL.get(backend, 1)
    sides = {"jax": lambda m: jax_runner(m, args.batch, args.conv_impl, k)}
    if args.bf16:
        sides["jax_bf16"] = lambda m: jax_runner(m, args.batch, args.conv_impl, k, "bfloat16")
    workers = {}  # PyTorch sides, one process each for the whole run
    if not args.no_torch:
        if backend == "gpu":
            workers["torch_cuda"] = TorchWorker(args.batch, 1, device="cuda")
            if args.bf16:
                workers["torch_bf16_cuda"] = TorchWorker(args.batch, 1, bf16=True, device="cuda")
        else:
            workers["torch_1thread"] = TorchWorker(args.batch, 1)
            workers["torch_2threads"] = TorchWorker(args.batch, 2)
            if args.bf16:
                workers["torch_bf16_1thread"] = TorchWorker(args.batch, 1, bf16=True)
                workers["torch_bf16_2threads"] = TorchWorker(args.batch, 2, bf16=True)
    results = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "jax": jax.__version__, "backend": backend, "device_kind": jax.devices()[0].device_kind,
               "batch": args.batch, "conv_impl": args.conv_impl, "steps_per_call": k,
               "matmul_precision": str(jax.config.jax_default_matmul_precision),
               "flops_counted": FLOPS_COUNTED, "xla_flags": os.environ.get("XLA_FLAGS", ""),
               "runs": [], "compile": []}  # fmt: skip
    try:  # the version only: PyTorch is never imported into this (JAX's) process, as in the trainer's
        results["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pass
    from jaxgen import precision, runtime

    runtime.freeze_imported_objects()  # as the command line does before it compiles

    results["cpu_model"] = precision.cpu_model()
    results["auto_dtype"] = precision.describe("auto")  # what runtime.compute_dtype=auto picks here
    results["mixed_dense"] = True  # runtime.compute_dtype reaches the MLP models' dense layers too
    print(results["auto_dtype"])
    results["peak_shape"] = shape = (8192, 8192, 8192) if backend == "gpu" else (4096, 1024, 1024)
    results["peak_gflops"] = peaks = measured_peaks(shape)
    where = results["device_kind"] if backend == "gpu" else results["cpu_model"]
    print(f"{where}: matmul peak " + ", ".join(f"{n} {v:.0f} GFLOP/s" for n, v in peaks.items()))
    for model in args.models:
        steps = {side: make(model) for side, make in sides.items()}
        for side, worker in workers.items():
            worker.build(model)
            steps[side] = worker
        for side, step in steps.items():
            if hasattr(step, "compile_s"):
                results["compile"].append(
                    {
                        "model": model,
                        "side": side,
                        "cold_s": step.compile_s,
                        "cached_s": step.cached_compile_s,
                    }
                )
                print(f"{model:10s} {side:15s} compile: cold {step.compile_s:.2f} s, from the persistent "
                      f"cache {step.cached_compile_s:.2f} s", flush=True)  # fmt: skip
        for round_ in range(args.rounds):
            for side, step in steps.items():
                load = os.getloadavg()[0]
                warmup = 2 if round_ == 0 else 1
                if isinstance(step, TorchWorker):  # on a GPU, between two synchronisations
                    n = (args.torch_steps or args.steps * k) if backend == "gpu" else args.steps
                    seconds = step.time(n, warmup)
                else:
                    seconds = time_steps(step, args.steps, warmup) / k
                run = {"model": model, "side": side, "round": round_, "s_per_step": seconds,
                       "images_per_s": args.batch / seconds, "load_1min": load}  # fmt: skip
                flops = getattr(step, "flops", 0.0)
                if flops:  # XLA's FLOP count of the step against the matmul peak of its operand dtype
                    run["gflops"] = flops / seconds / 1e9
                    run["peak_fraction"] = run["gflops"] / peaks["bfloat16" if "bf16" in side else "float32"]
                results["runs"].append(run)
                achieved = (
                    f", {run['gflops']:.0f} GFLOP/s = {run['peak_fraction']:.1%} of peak" if flops else ""
                )
                rate = f"{seconds * 1000:8.1f} ms/step {args.batch / seconds:8.1f} img/s{achieved}"
                print(f"{model:10s} {side:15s} round {round_}: {rate}  (load {load:.2f})", flush=True)
        results["summary"] = summarize(results["runs"])
        if args.out:  # after every model: a run cut short keeps what it measured
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
    for worker in workers.values():
        worker.close()
    print("\nbest of rounds (images/s):")
    for model, best in results["summary"].items():
        rates = {side: v for side, v in best.items() if "/" not in side and "peak" not in side}
        sides = "  ".join(f"{side} {v:7.1f}" for side, v in rates.items())
        ratios = "  ".join(f"{name} {v:.2f}x" for name, v in best.items() if "/" in name)
        print(f"{model:10s} {sides}  {ratios}")


def summarize(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Per model: each side's best images/s over the rounds, jaxgen's settings against PyTorch's best
    fp32 and best bf16 side, and jaxgen's best fraction of the matmul peak."""
    summary = {}
    for model in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == model]
        best = {
            side: max(r["images_per_s"] for r in mine if r["side"] == side)
            for side in dict.fromkeys(r["side"] for r in mine)
        }
        fractions = {
            f"{side}_peak_fraction": max(r.get("peak_fraction", 0.0) for r in mine if r["side"] == side)
            for side in best
            if side.startswith("jax")
        }
        ratios = {}
        for ours, theirs in (("jax", "torch_"), ("jax_bf16", "torch_"), ("jax_bf16", "torch_bf16")):
            rivals = [
                v
                for side, v in best.items()
                if side.startswith(theirs) and ("bf16" in side) == (theirs == "torch_bf16")
            ]
            if ours in best and rivals:
                name = f"{ours}/{theirs.rstrip('_')}{'_fp32' if theirs == 'torch_' else ''}_best"
                ratios[name] = best[ours] / max(rivals)
        summary[model] = {**best, **ratios, **fractions}
    return summary


if __name__ == "__main__":
    main()
