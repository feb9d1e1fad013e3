"""The ASN transfer function f(S) (Zambrano, Nusselder, Scholte & Bohté, Methods) as a PyTorch activation.

    f(S) = max(0, h / (exp((c1 S + c2)/(c3 S + c4)) - 1) - c0 + h/2)   for S > theta0/2, else 0

with h chosen so that f(1) = 1 ("normalize"). Gradients flow through the closed form.
"""
import math
from dataclasses import dataclass, asdict

import torch
from torch import nn


@dataclass
class ASNParams:
    tau_gamma: float = 15.0
    tau_eta: float = 50.0
    tau_beta: float = 50.0
    tau_phi: float = 2.5      # the authors' code; the paper text says 5 ms
    theta0: float = 0.1
    m_f: float = 0.1

    def constants(self):
        tg, te, t0, mf = self.tau_gamma, self.tau_eta, self.theta0, self.m_f
        c1 = 2 * mf * tg * tg
        c2 = 2 * t0 * te * tg
        c3 = tg * (mf * tg + 2 * (mf + 1) * te)
        c4 = t0 * te * (tg + te)
        return c1, c2, c3, c4

    def to_json(self):
        d = asdict(self)
        d["h"] = "normalize"
        return d


def _g(s, p: ASNParams):
    """f(S)/h for a float S (used for h normalisation)."""
    c1, c2, c3, c4 = p.constants()
    if s <= p.theta0 / 2:
        return 0.0
    s0 = p.theta0 / 2
    c0 = 1 / (math.exp((c1 * s0 + c2) / (c3 * s0 + c4)) - 1)
    return max(0.0, 1 / (math.exp((c1 * s + c2) / (c3 * s + c4)) - 1) - c0 + 0.5)


def normalized_h(p: ASNParams) -> float:
    return 1.0 / _g(1.0, p)


class ASNActivation(nn.Module):
    """f(S) with h normalised so that f(1) = 1."""

    def __init__(self, params: ASNParams):
        super().__init__()
        self.params = params
        self.h = normalized_h(params)
        c1, c2, c3, c4 = params.constants()
        s0 = params.theta0 / 2
        self.c = (c1, c2, c3, c4)
        self.c0 = self.h / (math.exp((c1 * s0 + c2) / (c3 * s0 + c4)) - 1)

    def forward(self, s):
        c1, c2, c3, c4 = self.c
        above = s > self.params.theta0 / 2
        # Evaluate only where defined; clamp the denominator's argument away from the pole.
        safe = torch.where(above, s, torch.full_like(s, 1.0))
        a = (c1 * safe + c2) / (c3 * safe + c4)
        v = self.h / torch.expm1(a) - self.c0 + self.h / 2
        return torch.where(above, torch.clamp(v, min=0.0), torch.zeros_like(s))

    def extra_repr(self):
        return f"theta0={self.params.theta0}, m_f={self.params.m_f}, h={self.h:.6f}"
