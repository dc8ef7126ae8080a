"""The science: data sets, models, masks, training and evaluation. Pure torch, no services."""
