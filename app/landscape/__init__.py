"""The Landscape tab: optimizers on 2-D test functions, challenges, and a network's loss shape."""
