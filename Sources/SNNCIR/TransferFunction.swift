// The ASN transfer function f(S) in the Methods form of Zambrano, Nusselder, Scholte & Bohté,
// "Efficient Computation in Adaptive Artificial Spiking Neural Networks":
//
//   f(S) = max(0, h / (exp((c1·S + c2)/(c3·S + c4)) − 1) − c0 + h/2)   for S > ϑ0/2, else 0
//   c1 = 2·m_f·τ_γ²          c2 = 2·ϑ0·τ_η·τ_γ
//   c3 = τ_γ·(m_f·τ_γ + 2·(m_f + 1)·τ_η)      c4 = ϑ0·τ_η·(τ_γ + τ_η)
//   c0 = h / (exp((c1·ϑ0/2 + c2)/(c3·ϑ0/2 + c4)) − 1)
//
// f is linear in h: f(S) = h·g(S), so the h that gives f(1) = 1 is 1/g(1).

#if canImport(Glibc)
import Glibc
#endif

public struct TransferFunction: Sendable, Equatable {
    public let theta0: Double
    public let mf: Double
    public let tauGamma: Double
    public let tauEta: Double
    let c1: Double, c2: Double, c3: Double, c4: Double
    /// 1/(exp(A(ϑ0/2)) − 1), i.e. c0/h.
    let c0PerH: Double

    public init(theta0: Double, mf: Double, tauGamma: Double, tauEta: Double) {
        self.theta0 = theta0
        self.mf = mf
        self.tauGamma = tauGamma
        self.tauEta = tauEta
        c1 = 2 * mf * tauGamma * tauGamma
        c2 = 2 * theta0 * tauEta * tauGamma
        c3 = tauGamma * (mf * tauGamma + 2 * (mf + 1) * tauEta)
        c4 = theta0 * tauEta * (tauGamma + tauEta)
        let s0 = theta0 / 2
        c0PerH = 1 / (exp((c1 * s0 + c2) / (c3 * s0 + c4)) - 1)
    }

    /// f(S) / h.
    public func g(_ s: Double) -> Double {
        guard s > theta0 / 2 else { return 0 }
        let v = 1 / (exp((c1 * s + c2) / (c3 * s + c4)) - 1) - c0PerH + 0.5
        return max(0, v)
    }

    public func f(_ s: Double, h: Double) -> Double { h * g(s) }

    /// The spike height that makes f(1) = 1.
    public var normalizedH: Double { 1 / g(1) }

    /// The h an ASN layer uses: its own value, or the normalised one.
    public func resolve(_ h: SpikeHeight) -> Double {
        switch h {
        case .value(let v): return v
        case .normalize: return normalizedH
        }
    }
}

