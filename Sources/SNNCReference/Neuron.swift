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

    /// Phase 1 for a whole population held as columns (structure of arrays): the same equations
    /// as `integrate`, element by element in the same order, in a loop without branches so LLVM
    /// vectorises it. `input` is consumed: zeroed for the next step (unless `injected`).
    @inline(__always)
    public static func integrate(current: UnsafeMutablePointer<Double>, sDyn: UnsafeMutablePointer<Double>, input: UnsafeMutablePointer<Double>,
                          count: Int, injected: Bool, _ k: NeuronConstants) {
        let aB = k.alphaBeta, aP = k.alphaPhi, oneMinusAP = 1 - k.alphaPhi
        if injected {
            for j in 0..<count {
                current[j] = input[j]
                sDyn[j] = oneMinusAP * current[j] + aP * sDyn[j]
            }
        } else {
            for j in 0..<count {
                let c = aB * current[j] + input[j]
                current[j] = c
                sDyn[j] = oneMinusAP * c + aP * sDyn[j]
                input[j] = 0
            }
        }
    }

    /// Phase 2 for a population as columns: `fire` element by element with S = a[n] (+ b[n]
    /// when `b` is given), eight neurons at a time with the branches replaced by selects (the
    /// same values bit for bit), the tail through `fire` itself. Writes spiked[n] = 1 and
    /// payload[n] = ϑ(t_s) where neuron n spiked, spiked[n] = 0 elsewhere; returns the number
    /// of spikes.
    public static func fire(sHat: UnsafeMutablePointer<Double>, thetaDyn: UnsafeMutablePointer<Double>, theta: UnsafeMutablePointer<Double>,
                     a: UnsafePointer<Double>, b: UnsafePointer<Double>?, count: Int, _ k: NeuronConstants,
                     spiked: UnsafeMutablePointer<UInt8>, payload: UnsafeMutablePointer<Double>) -> Int {
        typealias V = SIMD8<Double>
        @inline(__always) func load(_ p: UnsafePointer<Double>, _ n: Int) -> V { UnsafeRawPointer(p + n).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Double>, _ n: Int) { UnsafeMutableRawPointer(p + n).storeBytes(of: v, as: V.self) }
        let aE = k.alphaEta, aG = k.alphaGamma, mf = k.mf, theta0 = V(repeating: k.theta0)
        var spikes = 0
        var n = 0
        while n + 8 <= count {
            let th = load(theta, n)
            let sh = load(sHat, n) * aE
            var act = load(a, n)
            if let b { act = act + load(b, n) }
            let spike = act - sh .> th / 2
            store(sh.replacing(with: sh + th, where: spike), sHat, n)
            let td0 = load(thetaDyn, n)
            let td = td0.replacing(with: td0 + mf * th, where: spike) * aG
            store(td, thetaDyn, n)
            store(theta0 + td, theta, n)
            store(th, payload, n)
            let bits = SIMD8<UInt8>(truncatingIfNeeded: SIMD8<Int64>.zero.replacing(with: 1, where: spike))
            UnsafeMutableRawPointer(spiked + n).storeBytes(of: bits, as: SIMD8<UInt8>.self)
            spikes &+= Int(bits.wrappedSum())
            n &+= 8
        }
        while n < count {
            var s = NeuronState(theta0: k.theta0)
            s.sHat = sHat[n]; s.thetaDyn = thetaDyn[n]; s.theta = theta[n]
            let p = fire(&s, activation: b.map { a[n] + $0[n] } ?? a[n], k)
            sHat[n] = s.sHat; thetaDyn[n] = s.thetaDyn; theta[n] = s.theta
            payload[n] = p ?? 0
            spiked[n] = p == nil ? 0 : 1
            spikes &+= p == nil ? 0 : 1
            n &+= 1
        }
        return spikes
    }

    /// Both phases for a neuron without compartments.
    @inline(__always)
    public static func step(_ s: inout NeuronState, input: Double, bias: Double, injected: Bool, _ k: NeuronConstants) -> Double? {
        integrate(&s, input: input, injected: injected, k)
        return fire(&s, activation: bias + s.sDyn, k)
    }
}
