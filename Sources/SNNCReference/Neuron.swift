// One adaptive spiking neuron in float64, in the reference update order (verified against the
// authors' NumPy code; Docs/neuron-model.md). Every simulator in snnc — the whole-network float
// reference, `snnc transfer` — steps neurons with exactly this code.
#if canImport(Glibc)
import SNNCIR
import Glibc
#endif

/// Per-step decay factors α_x = exp(−dt/τ_x) and the constants of one neuron population.
public struct NeuronConstants: Sendable, Equatable {
    public let alphaBeta: Double, alphaPhi: Double, alphaEta: Double, alphaGamma: Double
    public let theta0: Double
    public let mf: Double

    public init(tauBeta: Double, tauPhi: Double, tauEta: Double, tauGamma: Double, theta0: Double, mf: Double, dt: Double = 1) {
        alphaBeta = exp(-dt / tauBeta)
        alphaPhi = exp(-dt / tauPhi)
        alphaEta = exp(-dt / tauEta)
        alphaGamma = exp(-dt / tauGamma)
        self.theta0 = theta0
        self.mf = mf
    }
}

/// The state of one neuron. Initial state: all zero, ϑ = ϑ0.
public struct NeuronState: Sendable, Equatable {
    public var current: Double = 0  // I, the post-synaptic current
    public var sDyn: Double = 0  // the filtered current (membrane)
    public var sHat: Double = 0  // Ŝ, the refractory response
    public var thetaDyn: Double = 0  // ϑ − ϑ0, the adaptation
    public var theta: Double  // ϑ as left by the previous step

    public init(theta0: Double) { theta = theta0 }
}

public enum Neuron {
    /// Phase 1: PSC and membrane filter. `input` is Σ w·payload over spikes arriving this step;
    /// an input-layer neuron (`injected`) takes its current directly (I = input, no decay).
    @inline(__always)
    public static func integrate(_ s: inout NeuronState, input: Double, injected: Bool, _ k: NeuronConstants) {
        s.current = injected ? input : k.alphaBeta * s.current + input
        s.sDyn = (1 - k.alphaPhi) * s.current + k.alphaPhi * s.sDyn
    }

    /// Phase 2: the spike test on activation `S` (bias + S_dyn, or the max over max-pool
    /// compartments), refractory and threshold updates. Returns the payload ϑ(t_s) if the
    /// neuron spiked, else nil.
    @inline(__always)
    public static func fire(_ s: inout NeuronState, activation: Double, _ k: NeuronConstants) -> Double? {
        s.sHat *= k.alphaEta
        var payload: Double? = nil
        if activation - s.sHat > s.theta / 2 {
            payload = s.theta
            s.sHat += s.theta
            s.thetaDyn += k.mf * s.theta
        }
        s.thetaDyn *= k.alphaGamma
        s.theta = k.theta0 + s.thetaDyn
        return payload
    }

    /// Both phases for a neuron without compartments.
    @inline(__always)
    public static func step(_ s: inout NeuronState, input: Double, bias: Double, injected: Bool, _ k: NeuronConstants) -> Double? {
        integrate(&s, input: input, injected: injected, k)
        return fire(&s, activation: bias + s.sDyn, k)
    }
}
