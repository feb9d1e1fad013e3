// What the emulator runs, as read from an artefact (ArtefactReader.swift): the layers (names,
// shapes, integer constants — what a core's neuron-parameter block refers to — and what the
// host needs: input encodings, the readout), the cores with their decoded images and output-axon
// tables, the chips that group them, and the profile's timing for the cycle model.
import SNNCArtefact
import SNNCIR

public struct EmuLayer: Sendable {
    public enum Kind: String, Sendable { case injected, spiking, readout }
    public var name: String
    public var kind: Kind
    /// Neurons as H × W × C (flat layers 1 × 1 × N) and compartments' H × W.
    public var h: Int, w: Int, c: Int
    public var ch: Int, cw: Int
    public var graded: Bool
    public var spikeHeight: Double
    public var stateExponent: Int
    public var constants: FixedConstants
    /// An IF-family layer's constants (nil: an ASN layer, `constants`).
    public var lif: LIFFixedConstants?
    /// An IF-family input layer: the input gain the host multiplies its current by.
    public var hostGain = 1.0
    /// The readout of an IF-family network integrates (`ReadoutLeak.integrator`) or leaks (NIR's
    /// LI, CubaLI) instead of filtering with τ_β and τ_φ: FixedPointLIF.leakyReadout.
    public var readoutLeak: ReadoutLeak?
    /// Arousal: the constants after the switch to ϑ0_hp and the k-bit gain on the summed input
    /// (h_hp / h_lp); the readout's float gain.
    public var arousedConstants: FixedConstants?
    public var arousalGain: Int64 = 0
    public var readoutArousalGain = 1.0
    /// Host side of an input layer: an affine per channel, or a chain of float64 steps.
    public var hostScale: [Double] = [], hostShift: [Double] = []
    public var hostSteps: [HostStep] = []
    /// Readout: τ_φ, the LSB of its accumulators, its float bias per compartment, the layer whose
    /// τ_β filters its current.
    public var readoutTauPhi = 0.0
    public var readoutLSB = 1.0
    public var readoutBias: [Double] = []
    public var readoutSource = 0
    public var neurons: Int { h * w * c }
    public var compartments: Int { ch * cw * c }
}

/// The profile's timing and energy numbers (cores.json "timing"), for the cycle model.
public struct EmuTiming: Sendable {
    public var clockHz: Double, timestepUs: Double
    public var axonEvent: Double, synapticOp: Double, neuronUpdate: Double, spikeOut: Double, stepOverhead: Double
    public var hasCycles: Bool
    public var hopLatencyNs: Double
    public var payloadBits: Int
    public var synapticOpPJ: Double, neuronUpdatePJ: Double, spikeHopPJ: Double, payloadBitPJ: Double
}

/// One block of a core, as the core runs it.
public struct CoreBlock: Sendable {
    public var layer: Int
    public var dendrite: Bool
    /// The block's compartments are the core's accumulators base ..< base + count.
    public var base: Int, count: Int
    public var firstOutput: Int
    public var layerCompartment: [Int32]
    public var bias: [Int64]
    public var layerNeuron: [Int32]
    public var poolStart: [Int32], poolCompartment: [Int32]
    /// Core-local index of the block's first neuron in the core's neuron state.
    public var neuronBase: Int
    /// The left shift applied to the block's 32-bit sums when they are read (mantissa mode,
    /// ArtefactReader.narrow; 0 otherwise): input = acc + (acc32 << narrowShift).
    public var narrowShift = 0
    /// The pool windows as runs, flat: neuron n0, length len, window size K, then K
    /// compartments c_q; neuron n0 + i pools compartments c_q + i (ArtefactReader.poolRuns).
    public var poolRuns: [Int32] = []
    public var neurons: Int { layerNeuron.count }
}

/// One range of a core's input axons, as the core delivers it.
public struct CoreRange: Sendable {
    public var mode: SynapseMode
    public var shift: Int
    public var block: Int
    public var layer: Int
    /// Binary synapses into compartments whose per-step sum provably fits 32 bits: delivered
    /// into the core's 32-bit accumulators (same sums, half the memory traffic) — from 16-bit
    /// weights when they fit (`weights16`).
    public var narrow = false
    public var weights16 = false
}

/// A core: its image decoded for running — weights converted to what the synapse adds (binary:
/// state LSBs) — and its output-axon table.
public struct CoreProgram: Sendable {
    public var chip: Int
    /// Global mesh position, for hop counts.
    public var row: Int, col: Int
    public var blocks: [CoreBlock]
    public var compartments: Int
    public var neurons: Int
    public var ranges: [CoreRange]
    /// Per input axon: its range and the synaptic events one spike on it makes (synapses of
    /// non-zero weight; identity and partial synapses always count).
    public var axonRange: [Int32]
    public var rowEvents: [Int32]
    public var rowStart: [Int32]
    public var runs: [Int32]
    public var weights: [Int32]
    /// The narrow ranges' weights as 16 bits (same offsets as `weights`; empty when none).
    public var weights16: [Int16] = []
    /// Synapses in the core's memory (CoreImage.synapses).
    public var synapses: Int
    /// Output-axon table, CSR over the core's outputs, with each entry's hops.
    public var outStart: [Int32]
    public var outCore: [Int32]
    public var outAxon: [Int32]
    public var outHops: [Int32]
    /// The work the core holds, for spreading cores over threads or ranks: compartment updates
    /// and synapses (weighted), at least 1.
    public var work: Int { 4 * compartments + synapses / 8 + 1 }
}

public struct EmuNetwork: Sendable {
    public var timing: EmuTiming
    public var model: String
    public var profile: String
    public var numerics: FixedNumerics
    public var layers: [EmuLayer]
    public var cores: [CoreProgram]
    /// The cores of each chip, in core order.
    public var chips: [[Int]]
    /// Arousal policy compiled in (layers.json "arousal"), and the ϑ0 the network was compiled at.
    public var arousal: Arousal?
    public var theta0Override: Double?
    public var synapses: Int { cores.reduce(0) { $0 + $1.synapses } }
}
