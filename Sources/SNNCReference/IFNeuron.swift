// The integrate-and-fire family (IF, LIF, CubaLIF) in float64: the discrete-time equations of
// `LIFParameters` (SNNCIR/Model.swift; Docs/neuron-model.md, "IF, LIF and CubaLIF"), one step
// per model step. Every simulator in snnc steps these neurons with this code, as it steps the
// ASN with Neuron.swift.
import SNNCIR

/// The per-step coefficients of one IF-family population (forward Euler at one step):
/// `v ← memDecay·v + memGain·drive + memLeak`, and for CubaLIF first
/// `i ← synDecay·i + synGain·x` with drive = i (drive = x otherwise).
public struct LIFConstants: Sendable, Equatable {
    public let memDecay: Double, memGain: Double, memLeak: Double
    public let currentBased: Bool
    public let synDecay: Double, synGain: Double
    /// +∞ for a population that never fires (the integrating readout).
    public let threshold: Double
    public let reset: ResetRule
    /// The reset acts on the next step's membrane after its update (snnTorch), not at once.
    public let resetNextStep: Bool
    public let vReset: Double

    public init(memDecay: Double, memGain: Double, memLeak: Double, currentBased: Bool = false, synDecay: Double = 0, synGain: Double = 0,
                threshold: Double, reset: ResetRule, resetNextStep: Bool = false, vReset: Double = 0) {
        self.memDecay = memDecay
        self.memGain = memGain
        self.memLeak = memLeak
        self.currentBased = currentBased
        self.synDecay = synDecay
        self.synGain = synGain
        self.threshold = threshold
        self.reset = reset
        self.resetNextStep = resetNextStep
        self.vReset = vReset
    }

    /// The membrane after a reset.
    @inline(__always)
    func afterReset(_ v: Double) -> Double { reset == .subtract ? v - threshold : vReset }

    public init(_ p: LIFParameters) {
        self.init(memDecay: p.memDecay, memGain: p.memGain, memLeak: p.memLeak,
                  currentBased: p.kind == .currentBased, synDecay: p.synDecay, synGain: p.synGain,
                  threshold: p.vThreshold, reset: p.reset, resetNextStep: p.resetTiming == .nextStep, vReset: p.vReset)
    }

    /// A non-spiking integrator, v ← v + x: the readout of a network of IF-family neurons (its
    /// membrane is Σ over steps of the weighted spikes plus the bias: Rueckauer et al.'s
    /// membrane readout; behind a spiking layer with no weights in between, its spike count).
    public static let integrator = LIFConstants(memDecay: 1, memGain: 1, memLeak: 0, threshold: .infinity, reset: .subtract)

    /// A leaky readout (NIR's LI, CubaLI): the population's dynamics, never firing.
    public static func leakyReadout(_ p: LIFParameters) -> LIFConstants {
        LIFConstants(memDecay: p.memDecay, memGain: p.memGain, memLeak: p.memLeak, currentBased: p.kind == .currentBased, synDecay: p.synDecay,
                     synGain: p.synGain, threshold: .infinity, reset: .subtract)
    }
}

/// One IF-family neuron's state: the synaptic current (CubaLIF), the membrane potential and
/// whether it spiked in the previous step.
public struct LIFState: Sendable, Equatable {
    public var current = 0.0
    public var v = 0.0
    public var spiked = false
    public init() {}
}

public enum LIFNeuron {
    /// Phase 1: input current x (Σ w·height over this step's spikes, plus the bias) into the
    /// synaptic current (CubaLIF) and the membrane.
    @inline(__always)
    public static func integrate(_ s: inout LIFState, input x: Double, _ k: LIFConstants) {
        var drive = x
        if k.currentBased {
            s.current = k.synDecay * s.current + k.synGain * x
            drive = s.current
        }
        s.v = k.memDecay * s.v + k.memGain * drive + k.memLeak
        if k.resetNextStep && s.spiked { s.v = k.afterReset(s.v) }
    }

    /// Phase 2: the spike test on the membrane and the immediate reset. Returns whether it spiked.
    @inline(__always)
    public static func fire(_ s: inout LIFState, _ k: LIFConstants) -> Bool {
        s.spiked = s.v > k.threshold
        if s.spiked && !k.resetNextStep { s.v = k.afterReset(s.v) }
        return s.spiked
    }

    /// Both phases.
    @inline(__always)
    public static func step(_ s: inout LIFState, input: Double, _ k: LIFConstants) -> Bool {
        integrate(&s, input: input, k)
        return fire(&s, k)
    }

    /// Phase 1 for a population as columns (`current` the synaptic currents, `v` the membranes):
    /// x = input[c] + bias[c] (the injected current alone for an input layer), the same
    /// arithmetic as `integrate`; `input` is zeroed for the next step unless `injected`. A
    /// "next_step" reset is then applied by `resetPending`.
    @inline(__always)
    public static func integrate(current: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>, input: UnsafeMutablePointer<Double>,
                                 bias: UnsafePointer<Double>, count: Int, injected: Bool, _ k: LIFConstants) {
        let dM = k.memDecay, gM = k.memGain, lM = k.memLeak, dS = k.synDecay, gS = k.synGain
        for c in 0..<count {
            let x = injected ? input[c] : input[c] + bias[c]
            if !injected { input[c] = 0 }
            var drive = x
            if k.currentBased {
                let i = dS * current[c] + gS * x
                current[c] = i
                drive = i
            }
            v[c] = dM * v[c] + gM * drive + lM
        }
    }

    /// The "next_step" reset after phase 1: every compartment of each neuron that spiked in the
    /// previous step (`spiked`, still the previous step's flags) is reset.
    public static func resetPending(v: UnsafeMutablePointer<Double>, poolStart: UnsafePointer<Int32>?, poolIndex: UnsafePointer<Int32>?,
                                    count: Int, _ k: LIFConstants, spiked: UnsafePointer<UInt8>) {
        for n in 0..<count where spiked[n] != 0 {
            if let ps = poolStart, let pi = poolIndex {
                for q in Int(ps[n])..<Int(ps[n + 1]) { v[Int(pi[q])] = k.afterReset(v[Int(pi[q])]) }
            } else {
                v[n] = k.afterReset(v[n])
            }
        }
    }

    /// Phase 2 for a population: neuron n's activation is its membrane, or for a max-pooled
    /// neuron the largest membrane of its compartments (poolIndex[poolStart[n]..<poolStart[n+1]]);
    /// it spikes when that exceeds the threshold, and then every compartment of it is reset (at
    /// once; with a "next_step" reset, by `resetPending` in the next step).
    /// Writes spiked[n] (1 or 0) and payload[n] = `height` where it spiked; returns the count.
    public static func fire(v: UnsafeMutablePointer<Double>, poolStart: UnsafePointer<Int32>?, poolIndex: UnsafePointer<Int32>?, count: Int,
                            _ k: LIFConstants, height: Double, spiked: UnsafeMutablePointer<UInt8>, payload: UnsafeMutablePointer<Double>) -> Int {
        var spikes = 0
        for n in 0..<count {
            var fired = false
            if let ps = poolStart, let pi = poolIndex {
                var a = -Double.infinity
                for q in Int(ps[n])..<Int(ps[n + 1]) { a = max(a, v[Int(pi[q])]) }
                if a > k.threshold {
                    fired = true
                    if !k.resetNextStep { for q in Int(ps[n])..<Int(ps[n + 1]) { v[Int(pi[q])] = k.afterReset(v[Int(pi[q])]) } }
                }
            } else if v[n] > k.threshold {
                fired = true
                if !k.resetNextStep { v[n] = k.afterReset(v[n]) }
            }
            spiked[n] = fired ? 1 : 0
            payload[n] = fired ? height : 0
            spikes &+= fired ? 1 : 0
        }
        return spikes
    }
}
