"""The experimental options of the adversarial phases: everything the paper's update does not do, in one place.

Each is chosen by a setting (``settings.py``), off in the paper profile, and used by ``solver.Trainer`` through one
hook; the measured effect is report_appendix.md's (A6: single-seed screening runs of 280 to 1,120 updates from one
SRResNet, SRGAN-MSE; "grid" is the grid score on the held-out images, 1 = the HR's):

=========================== ================================================ ==========================================
setting                     what it does                                     measured (paper's SRGAN-MSE: grid 5.21
                                                                             after 280 updates, 3.67 after 1,120)
=========================== ================================================ ==========================================
``gan_loss=relativistic``   ``RelativisticLoss`` (ESRGAN)                    grid 7.05 after 280, 1.70 dB less PSNR
``d_shift=N``               ``discriminator_view``: random crop per image    grid 1.48 after 280, 4.16 after 1,120
``d_blur=true``             ``discriminator_view``: ``binomial_blur``        grid 5.69 after 280 (a 4-px grid instead)
``grid_weight=W``           ``periodic_error`` added to G's loss             grid 1.07 (W=100) / 1.04 (W=1000) after
                                                                             280, the no-adversarial control's level
``generator_bn=frozen``     ``freeze_batch_norms``                           grid 4.66 after 1,120
``ema_decay=0.999``         ``moving_average``                               grid 1.05 after 280, 1.42 after 1,120
``icnr_init=true``          ``icnr_`` (G from random weights only)           GAN from scratch: grid 0.89 against 1.29
                                                                             after 280, the same after 560
``d_luminance=true``        ``discriminator_view``: ``luminance``            (issue 37's screening: report_appendix.md)
``d_augment=true``          ``discriminator_view``: ``diff_augment``         (issue 37's screening)
``ldl_weight=W``            ``artefact_map`` (LDL) added to G's loss         (issue 37's screening)
``spectral_weight=W``       ``spectral_excess`` added to G's loss            (issue 37's screening)
``spectral_borders=true``  ``spectral_excess``'s ``cover_borders``          border ratio 0.82 against 1.32 (A12)
``chroma_weight=W``         ``chroma_error`` added to G's loss               (issue 37's follow-up, appendix A12)
``d_lr_ratio``,             in ``solver.Trainer``'s optimisers / the loss    no grid removed (8.44, 8.23 after 280)
``adversarial_weight``
=========================== ================================================ ==========================================

Tensors: images ``(N, 3, H, W)`` in ``[-1, 1]``; D's outputs are logits ``(N,)``.
"""
import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from models import UpsampleBlock
from settings import GRID_WINDOW, SPECTRAL_TILE
from utils import constant_like, convert_image


# ----------------------------------------------------------------------------------------------
# The GAN loss, by name (gan_loss)
# ----------------------------------------------------------------------------------------------
def bce(logits, target):
    """Binary cross-entropy of logits against a constant target (1 = real, 0 = fake): the paper's sigmoid + BCE,
    computed stably."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


class StandardLoss:
    """The paper's GAN loss: ``l_D = BCE(D(hr), 1) + BCE(D(sr), 0)``; G's adversarial loss ``BCE(D(sr), 1)``, i.e.
    ``-log D(G(lr))``. ``needs_real``: whether G's loss also needs D's logits of the HR."""
    needs_real = False

    def discriminator(self, real, fake):
        return bce(real, 1) + bce(fake, 0)

    def generator(self, fake, real=None):
        return bce(fake, 1)


class RelativisticLoss:
    """ESRGAN's relativistic average GAN: D judges whether HR looks more real than SR on average,
    ``l_D = (BCE(D(hr) - mean D(sr), 1) + BCE(D(sr) - mean D(hr), 0)) / 2``; G's loss is the same with the targets
    swapped, with D's logits of the HR from the updated D (``needs_real``)."""
    needs_real = True

    def discriminator(self, real, fake):
        return (bce(real - fake.mean(), 1) + bce(fake - real.mean(), 0)) / 2

    def generator(self, fake, real):
        return (bce(real - fake.mean(), 0) + bce(fake - real.mean(), 1)) / 2


GAN_LOSSES = {"bce": StandardLoss, "relativistic": RelativisticLoss}


# ----------------------------------------------------------------------------------------------
# What D sees of an image (d_luminance, d_blur, d_shift, d_augment)
# ----------------------------------------------------------------------------------------------
def discriminator_view(config):
    """The function ``images -> images`` applied before every D call, HR and SR alike, in D's and G's steps:
    ``luminance`` when ``d_luminance``, ``binomial_blur`` when ``d_blur``, ``random_shift`` by up to ``d_shift`` px
    when set, ``diff_augment`` when ``d_augment``, in that order; the identity in the paper."""
    def view(images):
        if config.d_luminance:
            images = luminance(images)
        if config.d_blur:
            images = binomial_blur(images)
        if config.d_shift:
            images = random_shift(images, config.d_shift)
        return diff_augment(images) if config.d_augment else images
    return view


def _same_layout(result, like):
    """``result`` in the memory layout of ``like`` (channels_last or contiguous)."""
    layout = torch.channels_last if like.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    return result.contiguous(memory_format=layout)


def luminance(images):
    """``(N, 3, H, W)`` in ``[-1, 1]`` -> the same shape and range, each pixel replaced by its luma (ITU-R BT.601,
    ``utils.convert_image``'s ``y``, 16..235 stretched back to ``[-1, 1]``) in all three channels: a grey image.
    A D that sees only this cannot tell colours apart, so its gradient cannot ask G for colour detail (colour
    speckle); the content loss still sets the colours. Gradients pass through (a fixed linear map)."""
    gray = (convert_image(images.float(), "[-1, 1]", "y") - 16.0) / 219.0 * 2.0 - 1.0  # (N, H, W), in float32:
    return _same_layout(gray.unsqueeze(1).expand(-1, 3, -1, -1).to(images.dtype), images)  # bf16 luma is coarse


def diff_augment(images, translation=1 / 8, cutout=1 / 2):
    """DiffAugment's "translation, cutout" policy (Zhao et al., NeurIPS 2020), each image with its own draws from the
    global torch generator: shifted by up to ``translation`` of its side in each direction (integer pixels, the
    uncovered border filled with 0, mid-grey in ``[-1, 1]``), then a square of ``cutout`` of its side, centred at a
    random pixel (clipped at the border), set to 0. ``(N, C, H, W)`` -> same shape. Applied to HR and SR before every
    D call, in D's step and in G's (gradients pass to the kept pixels), D judges only augmented images, so it can
    neither learn the exact training crops by heart nor leak the augmentation into G's outputs."""
    n, _, height, width = images.shape
    shift_y, shift_x = int(height * translation + 0.5), int(width * translation + 0.5)
    offsets = torch.stack([torch.randint(-shift_y, shift_y + 1, (n,)), torch.randint(-shift_x, shift_x + 1, (n,))], 1)
    padded = F.pad(images, (shift_x, shift_x, shift_y, shift_y))
    moved = torch.stack([image[:, shift_y - dy:shift_y - dy + height, shift_x - dx:shift_x - dx + width]
                         for image, (dy, dx) in zip(padded, offsets.tolist())])
    size_y, size_x = int(height * cutout + 0.5), int(width * cutout + 0.5)
    centre_y, centre_x = torch.randint(height, (n, 1, 1)), torch.randint(width, (n, 1, 1))
    rows = torch.arange(height).view(1, -1, 1) - centre_y + size_y // 2  # 0..size-1 inside the square
    cols = torch.arange(width).view(1, 1, -1) - centre_x + size_x // 2
    rows, cols = (rows >= 0) & (rows < size_y), (cols >= 0) & (cols < size_x)
    keep = ~(rows & cols)  # (N, H, W): False inside the square
    return _same_layout(moved * constant_like(keep.unsqueeze(1), images), images)


def random_shift(images, max_shift):
    """Crop every image of ``(N, C, H, W)`` to ``(H - max_shift, W - max_shift)`` at its own random offset
    ``(dy, dx)``, each uniform in ``0..max_shift`` (drawn with the global torch generator). Gradients flow back
    to the kept pixels. A stride-2 discriminator's gradient repeats every 2, 4, 8... pixels of its input; shifted
    by a random offset, that pattern no longer lines up with G's pixel grid from one update to the next."""
    n, _, height, width = images.shape
    if not 0 <= max_shift < min(height, width):
        raise ValueError(f"d_shift={max_shift} must be below the image side ({height}x{width})")
    offsets = torch.randint(max_shift + 1, (n, 2)).tolist()
    return _same_layout(torch.stack([image[:, dy:dy + height - max_shift, dx:dx + width - max_shift]
                                     for image, (dy, dx) in zip(images, offsets)]), images)


def binomial_blur(images):
    """``(N, C, H, W)`` -> same shape: each channel filtered by the 3x3 binomial kernel ``[1, 2, 1]^T [1, 2, 1] / 16``
    (edges reflected). Its response is ``cos^2(pi f)`` per axis: 1 at f = 0, 0.5 at 1/4 cycle/pixel, 0 at 1/2, so a
    pattern of a 2-pixel period vanishes and one of a 4-pixel period is halved; along one axis, frequencies
    below 1/8 (what the x4 LR image holds) keep at least 85% of their amplitude. Gradients pass through (it is a
    fixed convolution)."""
    taps = constant_like([1.0, 2.0, 1.0], images)
    kernel = (taps[:, None] * taps[None, :] / 16).expand(images.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="reflect"), kernel, groups=images.shape[1])


# ----------------------------------------------------------------------------------------------
# Extra terms of G's loss (grid_weight, spectral_weight, chroma_weight, ldl_weight)
# ----------------------------------------------------------------------------------------------
def generator_terms(config, moving_average=None):
    """``{name: (weight, function(sr, hr, lr) -> scalar)}``: the terms added to G's loss besides the content and
    adversarial ones (logged under their names); empty in the paper. ``moving_average``: the moving-average
    generator (``moving_average(...)``), which ``ldl_weight`` needs."""
    terms = {}
    if config.grid_weight:
        terms["periodic"] = (config.grid_weight, lambda sr, hr, lr: periodic_error(sr, hr))
    if config.spectral_weight:
        terms["spectral"] = (config.spectral_weight,
                             lambda sr, hr, lr: spectral_excess(sr, hr, cover_borders=config.spectral_borders))
    if config.chroma_weight:
        terms["chroma"] = (config.chroma_weight, lambda sr, hr, lr: chroma_error(sr, hr))
    if config.ldl_weight:
        if moving_average is None:
            raise ValueError("ldl_weight needs the moving-average generator (ema_decay > 0)")
        terms["ldl"] = (config.ldl_weight, lambda sr, hr, lr: ldl_loss(sr, hr, _averaged_output(moving_average, lr)))
    return terms


def periodic_error(sr, hr, window=GRID_WINDOW):
    """The part of the error ``sr - hr`` that repeats every 4 pixels, measured in each ``window`` x ``window`` tile.

    ``sr``, ``hr``: ``(N, C, H, W)`` with H and W multiples of ``window`` (a multiple of 4). In each tile, the error
    at each of the 16 positions modulo 4 (the sub-pixel phases of the two x2 pixel shuffles) is averaged over the
    tile's ``(window / 4)^2`` repeats; less the mean over the 16 phases, that is the tile's 4-pixel-periodic error:
    all of its energy lies at the grid frequencies ``(ky/4, kx/4)``, DC excepted (what ``metrics.calc_grid_score``
    measures). Returns the mean square of that periodic part over all tiles, phases, channels and images (a
    scalar). Normalised so that it is the part of the pixel MSE at those frequencies (in each tile): with the MSE
    content loss (SRGAN-MSE), ``mse + w * periodic_error`` weighs the error there ``1 + w`` times and the rest of
    the error as before. A grid is all periodic; an error without a period keeps only a small part in it (white
    noise: 15/256 of its energy, the share of those 15 frequencies' bands in a 16 x 16 tile's spectrum).
    """
    n, c, height, width = sr.shape
    if window % 4 or height % window or width % window:
        raise ValueError(f"periodic_error: window={window} must be a multiple of 4 dividing the image "
                         f"side ({height}x{width})")
    repeats = window // 4
    error = (sr - hr).float().reshape(n, c, height // window, repeats, 4, width // window, repeats, 4)
    phases = error.mean(dim=(3, 6))  # (N, C, tiles_y, 4, tiles_x, 4): the mean error at each phase of each tile
    return (phases - phases.mean(dim=(3, 5), keepdim=True)).square().mean()


def spectral_excess(sr, hr, tile=SPECTRAL_TILE, smooth=5, margin=1.0, cover_borders=False):
    """The energy of the pattern that ``sr`` has and ``hr`` lacks above the x4 LR's Nyquist frequency, in local
    spectra: a one-sided, differentiable cousin of ``metrics.calc_added_energy``.

    ``sr``, ``hr``: ``(N, C, H, W)`` in ``[-1, 1]``, H and W >= ``tile``. Both are cut into ``tile`` x ``tile``
    tiles with a ``tile / 2`` step from the top left (the inner tiles); in each tile and channel the power spectrum
    (mean removed, Hann window) is averaged over ``smooth`` x ``smooth`` neighbouring bins (wrapping around). Where,
    in the band ``max(|fy|, |fx|) > 1/8`` cycles/pixel that the LR cannot hold, SR has more than ``1 + margin`` times
    the HR's power, the excess is summed. Returned: that excess as a mean square (Parseval, divided by the tile's
    pixels and the window's energy), averaged over the tiles (weighted, below), channels and images: a scalar in the
    units of the pixel MSE, so that with the MSE content loss a weight W makes a pattern that the HR lacks (a mesh on
    a smooth beak) cost about ``1 + W`` times its MSE share. Computed in float32.

    Why the smoothing and the margin: two spectrum estimates of the same kind of texture differ bin by bin (another
    draw of the HR's own texture is not the HR's phase for phase). With 3x3 bins and no margin such a draw paid 31% of
    its energy; with 5x5 bins and ``margin=1`` (up to twice the HR's power is free) 2.4%, while a texture of twice the
    HR's amplitude still pays half of its energy (measured on band-passed noise, tests/test_gan_options.py). Missing
    texture is not penalised here.

    ``cover_borders`` (issue 37's border finding): a Hann window is 0 at a tile's edge, so the inner tiles leave the
    image's outer few pixels nearly unweighted, and G put texture there (a hatched band along the borders of the
    runs trained so; report_appendix A12). With ``cover_borders`` the images are also mirrored outwards by half a
    tile (``_tile_cover``) and the tiles that reach into the mirrored margin are added, each weighted by the share of
    its rows and columns that are the image's (an edge tile 1/2, a corner tile 1/4: the mirror shows its pixels
    twice), and the average is over these weights: every pixel counts alike, the outer ones too. A pattern in the
    outer pixels then costs about what it costs inside; texture over the whole image costs what it did; a pattern
    that only the inner tiles see costs (inner tiles) / (weights) of what it did, 25/36 in a 96-px crop: the same
    weight x 36/25 keeps that cost (the border run, ``spectral_weight=144 spectral_borders=true``). Off (the setting
    ``spectral_borders``' default): the term the reported SRGAN and the runs before the border finding trained with.
    """
    height, width = sr.shape[-2:]
    if min(height, width) < tile:
        raise ValueError(f"spectral_excess: images of {height}x{width} are smaller than one {tile}x{tile} tile")
    step = tile // 2
    hann = torch.hann_window(tile, periodic=False, device=sr.device)
    window = torch.outer(hann, hann)
    frequencies = torch.fft.fftfreq(tile, device=sr.device).abs()
    band = torch.maximum(frequencies[:, None], frequencies[None, :]) > 1 / 8
    powers = []
    for image in (sr, hr):
        image = _tile_cover(image.float(), tile) if cover_borders else image.float()
        tiles = image.unfold(-2, tile, step).unfold(-2, tile, step)  # (N, C, tiles_y, tiles_x, tile, tile)
        tiles = (tiles - tiles.mean(dim=(-2, -1), keepdim=True)) * window
        power = torch.fft.fft2(tiles).abs().square()
        shape = power.shape
        power = F.avg_pool2d(F.pad(power.flatten(0, 3).unsqueeze(1), (smooth // 2,) * 4, mode="circular"), smooth,
                             stride=1)
        powers.append(power.view(shape))
    excess = torch.where(band, (powers[0] - (1 + margin) * powers[1]).clamp(min=0), 0).sum(dim=(-2, -1))
    excess = excess / (window.numel() * window.square().sum())  # (N, C, tiles_y, tiles_x): each tile's mean square
    if not cover_borders:
        return excess.mean()
    weights = torch.outer(*[_real_share(side, tile, count, excess.device)
                            for side, count in zip((height, width), excess.shape[-2:])])
    return (excess * weights).sum(dim=(-2, -1)).mean() / weights.sum()


def _tile_cover(images, tile):
    """``(N, C, H, W)`` -> ``(N, C, H', W')``: mirrored (reflect) by ``tile / 2`` at the top and left and by
    ``tile / 2`` or a little more at the bottom and right, so that tiles of ``tile`` with a ``tile / 2`` step fit
    exactly from the top left corner of the margin and every pixel of the image lies in two tiles along each axis."""
    step = tile // 2
    ends = [step + (-side) % step for side in images.shape[-2:]]  # bottom, right (tile = 2 step)
    return F.pad(images, (step, ends[1], step, ends[0]), mode="reflect")


def _real_share(side, tile, count, device=None):
    """For the ``count`` tiles along one axis of an image of ``side`` pixels mirrored by ``_tile_cover``: the share of
    each tile's rows (or columns) that lie in the image, ``(count,)`` in ``(0, 1]``, on ``device``."""
    starts = torch.arange(count, device=device) * (tile // 2) - tile // 2
    inside = (starts + tile).clamp(max=side) - starts.clamp(min=0)
    return inside.float() / tile


def chroma_error(sr, hr):
    """The mean square of the colour part of the error ``sr - hr``: its Cb and Cr (BT.601, ``utils.convert_image``'s
    ``ycbcr``), in the units of the pixel MSE of ``[-1, 1]`` images (Cb and Cr divided by 127.5, as Y would be).

    ``sr``, ``hr``: ``(N, 3, H, W)`` in ``[-1, 1]``; a scalar, computed in float32. The pixel MSE weighs an error the
    same in any colour direction; adding ``W x chroma_error`` makes an error in Cb or Cr (colour speckle, a coloured
    fringe) cost more while an error of the luminance costs what it did: the adversarial term may still add
    luminance texture, but grain that changes colour must pay for it. (A grey error has no Cb/Cr part: R = G = B
    gives Cb = Cr = 0, as the matrix's rows sum to 0.)
    """
    chroma = [convert_image(image.float(), "[-1, 1]", "ycbcr")[:, 1:] for image in (sr, hr)]
    return ((chroma[0] - chroma[1]) / 127.5).square().mean()


def artefact_map(sr, hr, sr_average, window=7):
    """LDL's per-pixel artefact map (Liang, Zeng and Zhang, CVPR 2022, "Details or Artifacts"), ``(N, 1, H, W)``,
    not differentiated (a weight).

    ``sr``, ``hr``, ``sr_average``: ``(N, 3, H, W)`` in ``[-1, 1]``; ``sr_average`` is the moving-average G's output
    on the same LR. The residual ``r = sum over channels of |hr - sr|`` (in ``[0, 1]`` units, as the paper's images);
    the map is ``var(r over the patch)^(1/5) x var(r in the 7x7 window around the pixel)`` (local variance: reflected
    edges, unbiased), kept only where the current G is further from the HR than the moving average is (elsewhere 0):
    artefacts are where the residual varies locally and where training has just made things worse, not the stable
    details that the moving average also has. The map is a weight here: no gradient flows through it (the authors'
    released code also differentiates it; the paper writes the loss as a weighted L1).
    """
    residual = ((hr - sr).abs().sum(dim=1, keepdim=True) / 2).detach().float()
    residual_average = ((hr - sr_average).abs().sum(dim=1, keepdim=True) / 2).float()
    patch = residual.var(dim=(1, 2, 3), keepdim=True) ** (1 / 5)
    padded = F.pad(residual, (window // 2,) * 4, mode="reflect")
    mean, mean_square = (F.avg_pool2d(values, window, stride=1) for values in (padded, padded.square()))
    local = (mean_square - mean.square()).clamp(min=0) * (window ** 2 / (window ** 2 - 1))
    return torch.where(residual >= residual_average, patch * local, 0)


def ldl_loss(sr, hr, sr_average):
    """LDL's term: the L1 distance of SR and HR weighted by ``artefact_map``, in ``[0, 1]`` units, averaged over
    pixels and channels: a scalar (the paper's weight is 1)."""
    return (artefact_map(sr, hr, sr_average) * (sr - hr).abs().float() / 2).mean()


def _averaged_output(moving_average, lr):
    """The moving-average generator's output on ``lr`` (eval mode, no gradient), as in LDL."""
    with torch.no_grad():
        return moving_average.module.eval()(lr)


# ----------------------------------------------------------------------------------------------
# G's batch norms (generator_bn), its moving average (ema_decay), its initialisation (icnr_init)
# ----------------------------------------------------------------------------------------------
def freeze_batch_norms(generator):
    """Put G's batch norms in eval mode (after ``generator.train()``): they normalise with, and keep, the running
    statistics G came with (the SRResNet's)."""
    for module in generator.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def moving_average(generator, decay):
    """An exponential moving average of G's weights and buffers (``AveragedModel``; ``.update_parameters(G)`` after
    every G step, ``.module`` the averaged generator), or None when ``decay`` is 0."""
    if not decay:
        return None
    device = next(generator.parameters()).device  # the step counter on G's device: no copy to the GPU per update
    return AveragedModel(generator, device=device, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def icnr_(generator):
    """ICNR initialisation (Aitken, Ledig et al. 2017) of the generator's sub-pixel convolutions, in place.

    Each upsampling conv makes 4C channels that ``PixelShuffle(2)`` spreads over the 2x2 sub-pixels of C
    channels. ICNR draws the kernels of C channels (Kaiming-uniform, PyTorch's default) and copies each to its
    4 sub-pixels, so that at the start every upsampling block is a convolution at the low resolution followed by a
    nearest-neighbour enlargement: no checkerboard pattern to unlearn. The draws come from a forked random stream:
    every later draw (D's weights, the data) is the same as without it. Returns the generator.
    """
    with torch.random.fork_rng(devices=[]):
        for block in generator.tail:
            if isinstance(block, UpsampleBlock):
                conv = block.body[0]
                sub = nn.Conv2d(conv.in_channels, conv.out_channels // 4, conv.kernel_size, padding=conv.padding)
                with torch.no_grad():  # channel 4c + i is sub-pixel i of channel c
                    conv.weight.copy_(sub.weight.repeat_interleave(4, dim=0))
                    conv.bias.copy_(sub.bias.repeat_interleave(4, dim=0))
    return generator
