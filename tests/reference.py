"""Published numbers the tests check against (../shared/REFERENCE.md)."""

# Bicubic x4 (MATLAB down, MATLAB up), PSNR dB / SSIM on float Y, 4 px crop, Wang SSIM: "this protocol" row.
BICUBIC_X4 = {"Set5": (28.429, 0.8111), "Set14": (26.088, 0.7048), "B100": (25.955, 0.6678),
              "Urban100": (23.137, 0.6580)}

# The paper's x4 results (Ledig et al. 2017, Table 2 and 4; PSNR dB / SSIM with the paper's SSIM tool).
PAPER_X4 = {"srresnet": {"Set5": (32.05, 0.9019), "Set14": (28.49, 0.8184), "B100": (27.58, 0.7620)},
            "srgan_mse": {"Set5": (30.64, 0.8701), "Set14": (26.92, 0.7611)},
            "srgan_vgg54": {"Set5": (29.40, 0.8472), "Set14": (26.02, 0.7397), "B100": (25.16, 0.6688)}}

# Bicubic x4 as published (EDSR, RCAN tables).
PUBLISHED_BICUBIC_X4 = {"Set5": (28.42, 0.8104), "Set14": (26.00, 0.7027), "B100": (25.96, 0.6675),
                        "Urban100": (23.14, 0.6577)}
