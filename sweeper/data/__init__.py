"""Data for the reference trainer: the toy-singer generator and weight-free features
(numpy, scipy and Praat via parselmouth; no torch)."""
