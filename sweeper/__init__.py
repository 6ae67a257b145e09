"""sovits-sweeper: hyperparameter sweeps for so-vits-svc that know when a run has converged."""

__version__ = "0.1.0"
