"""Print the README's gallery: one row per model, its picture beside its time-to-quality card.

Every number is read from the `--mode=eval` reports in experiments/results/eval/ (steps, training wall
time where the run recorded it, seeds, quality); the pictures are in experiments/results/figures/. Seeds
are averaged as mean ± sample std.

    python experiments/gallery.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

FIGURES = "experiments/results/figures"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reports import load_reports  # noqa: E402

# (model, config file, figure, reports as name or name:seeds, quality [(label, dotted report key, format)],
# and for a card not trained with the config as it is, the settings it was trained with instead)
FID = ("FID-MNIST", "samples.fid", "{:.1f}")
ERROR = ("test error", "model.test_error", "pct")
NLL = ("NLL (IWAE, nats)", "model.nll_iwae", "{:.2f}")
MSE = ("test MSE", "model.test_mse", "{:.5f}")
LABELS = ("label accuracy", "samples.label_accuracy", "pct")
GALLERY = [
    ("classifier", "classifier.py", "classifier_accuracy_curves.png", "classifier:0,1,2",
     [("test accuracy", "model.test_accuracy", "pct")]),
    ("conv AE", "ae.py", "ae_reconstructions_step1500.png", "ae:0,1,2",
     [MSE]),
    ("2-d AE", "ae_2d.py", "ae_2d_manifold.png", "ae_2d:0,1,2", [("test MSE", "model.test_mse", "{:.4f}")]),
    ("linear AE 784→784", "ae_linear.py", "ae_linear_matrices.png", "ae_linear:0,1,2",
     [MSE]),
    ("denoising AE", "ae_denoising.py", "ae_denoising.png", "ae_denoising:0,1,2",
     [MSE]),
    ("conv AE, linear 16-d bottleneck", "ae_conv_linear.py", "ae_conv_linear_seed0_reconstructions.png",
     "ae_conv_linear:0,1,2", [MSE]),
    ("contractive AE", "ae_contractive.py", "ae_contractive_seed0_reconstructions.png",
     "ae_contractive:0,1,2", [MSE]),
    ("VAE (2-d)", "vae.py", "vae_manifold.png", "vae:0,1,2", [NLL, FID]),
    ("VAE, Gaussian decoder", "vae_gaussian.py", "vae_gaussian_seed0_samples.png", "vae_gaussian:0,1,2",
     [MSE, FID]),
    ("IWAE", "vae_iwae.py", "vae_iwae_samples.png", "vae_iwae:0,1,2", [NLL, FID]),
    ("conv VAE", "vae_conv.py", "vae_conv_samples.png", "vae_conv:0,1,2", [FID]),
    ("VAE-GAN", "vaegan.py", "vaegan_samples.png", "vaegan:0,1,2", [FID]),
    ("DCGAN", "gan.py", "gan_separate_seed1_samples_step2000.png", "gan_separate:0,1,2", [FID],
     "width 32, 2000 steps"),
    # the runs of WGAN's equal-time protocol (experiments/wgan_equal_time.sh): WGAN-GP at width 32 for 2000
    # steps, then WGAN at width 32 for the time that took, each pair under one load
    ("WGAN-GP", "wgan_gp.py", "wgan_gp_equal_time_ref_seed1_samples.png", "wgan_gp_equal_time_ref:0,1,2",
     [FID], "width 32, 2000 steps"),
    # the defaults' full schedules, on the one GPU lent so far (experiments/gpu_cards.sh)
    ("DCGAN, default schedule, NVIDIA H200", "gan.py", "gan_h200_samples.png", "gan_h200", [FID]),
    ("WGAN-GP, default schedule, NVIDIA H200", "wgan_gp.py", "wgan_gp_h200_samples.png", "wgan_gp_h200",
     [FID]),
    ("WGAN (clipping)", "wgan.py", "wgan_equal_time_ref_samples.png", "wgan_equal_time_ref:0,1,2", [FID],
     "width 32, the steps that fill WGAN-GP's 2000-step time"),
    ("LSGAN", "lsgan.py", "lsgan_seed0_samples_step5000.png", "lsgan:0,1,2", [FID]),
    ("EBGAN", "ebgan.py", "ebgan_seed0_samples_step5000.png", "ebgan:0,1,2", [FID]),
    # the paper's networks at n = 32, N(0, I) z; the default (n = 64, uniform z) is not yet run to the end
    ("BEGAN (n = 32, normal z)", "began.py", "began_paper_n32_samples.png", "began_paper_n32", [FID],
     "n = 32, normal z, 3000 steps"),
    ("BEGAN, small networks", "began_small.py", "began_small_halve_step32000_samples.png",
     "began_small_32k:0,1,2", [FID]),
    ("conditional GAN", "cgan.py", "cgan_long_seed0_digits.png", "cgan_long:0,1,2", [FID, LABELS]),
    ("ACGAN", "acgan.py", "acgan_long_seed0_digits.png", "acgan_long:0,1,2", [FID, LABELS]),
    ("InfoGAN", "infogan.py", "infogan_uniform_seed0_sweep_category.png", "infogan_uniform:0,1,2",
     [FID, ("category error", "model.cluster_error", "pct")]),
    ("AAE, labelled mixture prior", "aae.py", "aae_labelled_mixture_12k_prior_fit.png", "aae_lmix:0,1,2",
     [("prior distance ratio", "model.prior_distance_ratio", "{:.2f}")],
     "model.prior=mixture, model.label_prior=True"),
    ("AAE, swiss roll prior", "aae.py", "aae_swiss_roll_12k_prior_fit.png", "aae_swiss_roll_12k:0,1,2",
     [("prior distance ratio", "model.prior_distance_ratio", "{:.2f}")], "model.prior=swiss_roll"),
    ("AAE, labelled swiss roll prior", "aae.py", "aae_labelled_swiss_roll_12k_prior_fit.png",
     "aae_labelled_swiss_roll_12k:0,1,2", [("prior distance ratio", "model.prior_distance_ratio", "{:.2f}")],
     "model.prior=swiss_roll, model.label_prior=True"),
    ("style AAE", "style_aae.py", "style_aae_float32_seed0_style_transfer.png", "style_aae_float32:0,1,2",
     [ERROR, FID], "runtime.compute_dtype=float32"),
    # the same config under runtime.compute_dtype=auto on an Intel Xeon with AMX, where auto takes bf16 convs
    ("style AAE, mixed precision (Xeon)", "style_aae.py", "style_aae_mixed_seed1_style_transfer.png",
     "style_aae_mixed:0,1,2", [ERROR, FID]),
    ("semi-supervised AAE (100 labels)", "ssaae.py", "ssaae_noise_100_style_transfer.png",
     "ssaae_noise_100:0,1,2", [ERROR]),
    ("semi-supervised AAE (all labels)", "ssaae_all.py", "ssaae_all_style_transfer.png",
     "ssaae_all:0,1,2", [ERROR]),
    ("pix2pix (→ edges)", "pix2pix.py", "pix2pix_translations.png", "pix2pix:0,1,2",
     [("digit preservation", "model.translation_ab_digit_preservation", "pct"),
      ("SSIM", "model.translation_ab_ssim", "{:.3f}")]),
    ("pix2pix (→ coloured)", "pix2pix_coloured.py", "pix2pix_coloured_translations.png",
     "pix2pix_coloured:0,1,2", [("digit preservation", "model.translation_ab_digit_preservation", "pct")]),
    ("CycleGAN (↔ edges)", "cyclegan.py", "cyclegan_back_translations.png", "cyclegan",
     [("digit preservation A→B", "model.translation_ab_digit_preservation", "pct"),
      ("B→A", "model.translation_ba_digit_preservation", "pct")]),
    ("CoGAN (digits / edges)", "cogan.py", "cogan_long_pairs.png", "cogan_long:0,1,2",
     [("pair pixel agreement", "model.pair_pixel_agreement", "{:.3f}")]),
    ("UNIT (MNIST → UCI digits)", "unit.py", "unit_plain_uci_digits_seed1_cycles.png",
     "unit_plain_uci_digits:0,1,2", [("UCI accuracy with no UCI label", "model.test_b_accuracy", "pct")]),
    ("UNIT + semantic consistency (MNIST → UCI digits)", "unit_semantic.py",
     "unit_uci_digits_seed1_cycles.png", "unit_uci_digits:0,1,2",
     [("UCI accuracy with no UCI label", "model.test_b_accuracy", "pct")]),
    ("UNIT + matched labels (MNIST → rotated)", "unit_rotated.py", "unit_rotated_back_translations.png",
     "unit_rotated:0,1,2", [("rotated accuracy with no rotated label", "model.test_b_accuracy", "pct")]),
    ("UNIT with styles (MNIST → coloured)", "unit_coloured.py", "unit_coloured_back_translations.png",
     "unit_coloured:0,1,2", [("coloured accuracy with no coloured label", "model.test_b_accuracy", "pct")]),
    ("ST-CNN (rotated digits)", "st_cnn_r.py", "st_cnn_r_rectified.png", "st_cnn_r:0,1,2", [ERROR]),
    ("feature-matching GAN (100 labels)", "fm_gan.py", "fm_gan_seed0_samples.png", "fm_gan:0,1,2", [ERROR]),
]  # fmt: skip


def reports(spec: str) -> tuple[list[dict], list[int] | None]:
    """The reports of 'name' or 'name:0,1,2' (experiments/reports.py) and the seeds."""
    _, seeds, found = load_reports(spec)
    return found, [int(s) for s in seeds.split(",")] if seeds else None


def lookup(report: dict, dotted: str):
    value = report
    for part in dotted.split("."):
        value = value[part]
    return value


def formatted(values: list[float], fmt: str) -> str:
    """One value, or mean ± std over seeds; 'pct' writes fractions as percentages."""
    scale, fmt = (100.0, "{:.2f}%") if fmt == "pct" else (1.0, fmt)
    values = [v * scale for v in values]
    if len(values) == 1:
        return fmt.format(values[0])
    mean, std = statistics.mean(values), statistics.stdev(values)
    return f"{fmt.format(mean).rstrip('%')} ± {fmt.format(std)}"


def row(
    model: str, config: str, figure: str, spec: str, quality: list[tuple[str, str, str]], settings: str = ""
) -> str:
    found, seeds = reports(spec)
    steps = dict.fromkeys(lookup(r, "source.step") for r in found)  # in the seeds' order, as the walls
    walls = [r["source"].get("train_wall_s") for r in found]
    per_seed = " / ".join("not recorded" if w is None else f"{w:.0f} s" for w in walls)
    wall = "not recorded" if all(w is None for w in walls) else per_seed
    scores = "; ".join(
        f"{label} {formatted([lookup(r, key) for r in found], fmt)}" for label, key, fmt in quality
    )
    cells = [
        f'<img src="{FIGURES}/{figure}" width="110">',
        f"**{model}** `configs/{config}`" + (f" with {settings}" if settings else ""),
        "/".join(str(s) for s in steps),
        wall,
        ", ".join(str(s) for s in seeds) if seeds else "one",
        scores,
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    print("| picture | model, config | steps | training wall time | seeds | quality |")
    print("|---|---|---|---|---|---|")
    for entry in GALLERY:
        print(row(*entry))


if __name__ == "__main__":
    main()
