"""Published numbers the tests check against (../shared/REFERENCE.md)."""

# Bicubic x4 (MATLAB down, MATLAB up), PSNR dB / SSIM on float Y, 4 px crop, Wang SSIM: "this protocol" row.
BICUBIC_X4 = {"Set5": (28.429, 0.8111), "Set14": (26.088, 0.7048), "B100": (25.955, 0.6678),
              "Urban100": (23.137, 0.6580)}
