// The model graph (model format v1, Docs/model-format.md): a DAG of named nodes in
// topological order, each with its op's parameters and its inferred output shape.
// Activations are channels-last: [features] or [height, width, channels].

public enum OpKind: String, Sendable, CaseIterable {
    case input, dense, conv2d, batchnorm, asn, relu, maxpool2d, avgpool2d, flatten, add, readout
    /// The integrate-and-fire family (Docs/neuron-model.md, "IF, LIF and CubaLIF").
    case integrateAndFire = "if", lif, cubaLIF = "cuba_lif"

    /// A spiking population: an ASN, a relu run as a graded ASN, or an IF-family neuron.
    public var isSpiking: Bool { [.asn, .relu, .integrateAndFire, .lif, .cubaLIF].contains(self) }
    /// The IF family.
    public var isIntegrateAndFire: Bool { [.integrateAndFire, .lif, .cubaLIF].contains(self) }
}

/// How dense weights are laid out in the file.
public enum DenseLayout: String, Sendable { case outIn = "out_in", inOut = "in_out" }
/// How conv kernels are laid out in the file.
public enum KernelLayout: String, Sendable { case oihw = "OIHW", hwio = "HWIO" }

public struct Layouts: Sendable, Equatable {
    public var dense: DenseLayout
    public var kernel: KernelLayout
    public init(dense: DenseLayout = .outIn, kernel: KernelLayout = .oihw) {
        self.dense = dense
        self.kernel = kernel
    }
}

/// How an ASN emits spikes: binary spikes of height h (AdSNN, first seed) or graded spikes
/// carrying the sender's threshold ϑ(t_s) (ASNN, second seed).
public enum SpikeMode: String, Sendable { case binary, graded }

public enum SpikeHeight: Sendable, Equatable {
    case value(Double)
    /// Chosen so that the transfer function gives f(1) = 1.
    case normalize
}

public struct ASNParameters: Sendable, Equatable {
    public var tauGamma: Double
    public var tauEta: Double
    public var tauBeta: Double
    public var tauPhi: Double
    public var theta0: Double
    public var mf: Double
    public var h: SpikeHeight
    public var spike: SpikeMode

    public init(tauGamma: Double, tauEta: Double, tauBeta: Double, tauPhi: Double,
                theta0: Double, mf: Double, h: SpikeHeight, spike: SpikeMode = .binary) {
        self.tauGamma = tauGamma
        self.tauEta = tauEta
        self.tauBeta = tauBeta
        self.tauPhi = tauPhi
        self.theta0 = theta0
        self.mf = mf
        self.h = h
        self.spike = spike
    }

    /// The working range of ϑ0 and m_f: what the simulators and every fixed-point format handle
    /// (12 fraction bits below ϑ0 stay above 2^-1074, 16·ϑ0 stays far below 2^63 LSBs).
    public static let theta0Range: ClosedRange<Double> = 1e-6...100
    public static let mfRange: ClosedRange<Double> = 0...100
    /// Time constants in ms: above 0 (a tiny τ is an instant decay), at most 10^6.
    public static let tauRange: ClosedRange<Double> = Double.leastNonzeroMagnitude...1e6

    /// What is out of range, one sentence each ("" when the parameters are usable): the same
    /// rules for the loader, every ϑ0 override and the spiking paths.
    public var problems: [String] {
        var out: [String] = []
        for (name, v) in [("tau_gamma", tauGamma), ("tau_eta", tauEta), ("tau_beta", tauBeta), ("tau_phi", tauPhi)] where !Self.tauRange.contains(v) {
            out.append("\(name) is \(v) ms; it must be above 0 and at most \(Self.tauRange.upperBound)")
        }
        if !Self.theta0Range.contains(theta0) { out.append("theta0 is \(theta0); it must be in [\(Self.theta0Range.lowerBound), \(Self.theta0Range.upperBound)]") }
        if !Self.mfRange.contains(mf) { out.append("m_f is \(mf); it must be in [\(Self.mfRange.lowerBound), \(Self.mfRange.upperBound)]") }
        guard out.isEmpty else { return out }
        let tf = TransferFunction(theta0: theta0, mf: mf, tauGamma: tauGamma, tauEta: tauEta)
        switch h {
        case .normalize:
            let h = tf.normalizedH
            if !(h.isFinite && h > 0 && h < 1e12) {
                out.append("h \"normalize\" sets f(1) = 1, but at theta0 \(theta0), m_f \(mf) f(1) is \(tf.g(1)) for every h (an activation of 1 stays below the threshold); lower theta0 or give h a value")
            }
        case .value(let v):
            if !(v.isFinite && v > 0 && v < 1e12) { out.append("h is \(v); it must be in (0, 1e12)") }
        }
        return out
    }
}

/// What an integrate-and-fire neuron does to its membrane after a spike.
public enum ResetRule: String, Sendable, Equatable {
    /// v ← v − v_threshold (keeps the surplus: rate coding, Rueckauer et al. 2017).
    case subtract
    /// v ← v_reset (NIR's rule; "reset to zero" with v_reset 0).
    case value
}

/// An integrate-and-fire neuron of the IF family, in discrete time at one model step (1 ms,
/// one chip step): NIR's continuous-time equations (IF, LIF, CubaLIF) discretised by forward
/// Euler, the convention of snnTorch and Norse. τ are in model steps (ms). Per step, with x the
/// neuron's input current (Σ w·spike height over spikes arriving, plus the layer's bias):
///
///     CubaLIF: i ← (1 − 1/τ_syn)·i + (w_in/τ_syn)·x,  drive = i;   otherwise drive = x
///     IF:      v ← v + r·drive
///     LIF, CubaLIF: v ← (1 − 1/τ_mem)·v + (r/τ_mem)·drive + v_leak/τ_mem
///     spike when v > v_threshold; then v ← v − v_threshold (subtract) or v_reset (value),
///     at once or, with reset timing "next_step", on the next step's v after its update
///
/// A spike delivers `spikeHeight` (times the synaptic weights), as a binary ASN spike delivers h.
/// When a spike's reset acts: at once, after the spike test (NIR, Norse), or on the next
/// step's membrane after its update (snnTorch: mem[t] = β·mem[t−1] + x[t] − θ·spk[t−1], and for
/// "value", mem[t] = v_reset). For IF (no decay) and a subtractive reset both are the same.
public enum ResetTiming: String, Sendable, Equatable {
    case immediate
    case nextStep = "next_step"
}

public struct LIFParameters: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case integrateAndFire = "if", leaky = "lif", currentBased = "cuba_lif"
    }
    public var kind: Kind
    public var vThreshold: Double
    public var reset: ResetRule
    public var resetTiming: ResetTiming
    public var vReset: Double
    /// Input resistance: the gain from drive to membrane.
    public var r: Double
    /// Membrane time constant in steps (LIF, CubaLIF); infinite for IF.
    public var tauMem: Double
    public var vLeak: Double
    /// Synaptic time constant in steps (CubaLIF); infinite otherwise.
    public var tauSyn: Double
    /// Gain from input current to the synaptic current (CubaLIF).
    public var wIn: Double
    /// What a spike carries to its targets (multiplied by the weights).
    public var spikeHeight: Double

    public init(kind: Kind, vThreshold: Double, reset: ResetRule, resetTiming: ResetTiming = .immediate, vReset: Double = 0, r: Double = 1,
                tauMem: Double = .infinity, vLeak: Double = 0, tauSyn: Double = .infinity, wIn: Double = 1, spikeHeight: Double = 1) {
        self.kind = kind
        self.vThreshold = vThreshold
        self.reset = reset
        self.resetTiming = resetTiming
        self.vReset = vReset
        self.r = r
        self.tauMem = tauMem
        self.vLeak = vLeak
        self.tauSyn = tauSyn
        self.wIn = wIn
        self.spikeHeight = spikeHeight
    }

    /// Forward Euler at one step: the gain from drive to membrane (r for IF, r/τ_mem otherwise),
    /// the membrane's decay per step and its leak per step.
    public var memGain: Double { kind == .integrateAndFire ? r : r / tauMem }
    public var memDecay: Double { kind == .integrateAndFire ? 1 : 1 - 1 / tauMem }
    public var memLeak: Double { kind == .integrateAndFire ? 0 : vLeak / tauMem }
    /// CubaLIF: the synaptic current's decay and the gain from input to it (w_in/τ_syn).
    public var synDecay: Double { 1 - 1 / tauSyn }
    public var synGain: Double { wIn / tauSyn }
    /// The gain from one step's input (Σ w·height + bias) to the membrane: memGain, times
    /// synGain for CubaLIF. The compiler folds it into the incoming weights and biases.
    public var inputGain: Double { kind == .currentBased ? memGain * synGain : memGain }

    /// Time constants in steps: at least one step (forward Euler is unstable below), at most 10^9.
    public static let tauRange: ClosedRange<Double> = 1...1e9
    /// Magnitudes of thresholds, gains, potentials and spike heights.
    public static let magnitudeLimit = 1e12

    /// What is out of range, one sentence each (empty when usable).
    public var problems: [String] {
        var out: [String] = []
        if kind != .integrateAndFire && !Self.tauRange.contains(tauMem) {
            out.append("tau_mem is \(tauMem) steps; it must be in [1, 1e9] (forward Euler at one step per ms)")
        }
        if kind == .currentBased && !Self.tauRange.contains(tauSyn) {
            out.append("tau_syn is \(tauSyn) steps; it must be in [1, 1e9]")
        }
        if !(vThreshold.isFinite && vThreshold > 0 && vThreshold < Self.magnitudeLimit) {
            out.append("v_threshold is \(vThreshold); it must be in (0, 1e12)")
        }
        if !(spikeHeight.isFinite && spikeHeight > 0 && spikeHeight < Self.magnitudeLimit) {
            out.append("spike_height is \(spikeHeight); it must be in (0, 1e12)")
        }
        for (name, v) in [("r", r), ("w_in", wIn)] where !(v.isFinite && v != 0 && abs(v) < Self.magnitudeLimit) {
            out.append("\(name) is \(v); it must be non-zero with magnitude below 1e12")
        }
        for (name, v) in [("v_reset", vReset), ("v_leak", vLeak)] where !(v.isFinite && abs(v) < Self.magnitudeLimit) {
            out.append("\(name) is \(v); its magnitude must be below 1e12")
        }
        if reset == .value && vReset >= vThreshold {
            out.append("v_reset \(vReset) is not below v_threshold \(vThreshold); the neuron would fire every step after its first spike")
        }
        return out
    }
}

/// The neuron-model seam: what a spiking node runs as. Every spiking path (the float reference,
/// the compiler, the emulator) switches on this one enum.
public enum NeuronModel: Sendable, Equatable {
    /// The adaptive spiking neuron (binary or graded spikes).
    case asn(ASNParameters)
    /// IF, LIF or CubaLIF.
    case lif(LIFParameters)
}

public struct Padding2D: Sendable, Equatable {
    public var top: Int, bottom: Int, left: Int, right: Int
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }
    public static let zero = Padding2D(top: 0, bottom: 0, left: 0, right: 0)
}

public enum PaddingSpec: Sendable, Equatable {
    case valid, same
    case explicit(Padding2D)
}

public struct Dense: Sendable {
    /// Stored as in the file; see `layout` and `weight(out:in:)`.
    public var weight: Tensor
    public var bias: Tensor?
    public var layout: DenseLayout
    public var inFeatures: Int
    public var outFeatures: Int

    public init(weight: Tensor, bias: Tensor?, layout: DenseLayout, inFeatures: Int, outFeatures: Int) {
        self.weight = weight
        self.bias = bias
        self.layout = layout
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    @inline(__always)
    public func weight(out o: Int, in i: Int) -> Double {
        layout == .outIn ? weight[o * inFeatures + i] : weight[i * outFeatures + o]
    }
}

public struct Conv2D: Sendable {
    public var weight: Tensor
    public var bias: Tensor?
    public var layout: KernelLayout
    public var outChannels: Int, inChannels: Int, kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var dilationH: Int, dilationW: Int
    public var paddingSpec: PaddingSpec
    /// Resolved from the spec and the input size during shape inference.
    public var padding: Padding2D

    public init(weight: Tensor, bias: Tensor?, layout: KernelLayout, outChannels: Int, inChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, paddingSpec: PaddingSpec, padding: Padding2D) {
        self.weight = weight
        self.bias = bias
        self.layout = layout
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.dilationH = dilationH
        self.dilationW = dilationW
        self.paddingSpec = paddingSpec
        self.padding = padding
    }

    @inline(__always)
    public func weight(out o: Int, in i: Int, ky: Int, kx: Int) -> Double {
        switch layout {
        case .oihw: return weight[((o * inChannels + i) * kernelH + ky) * kernelW + kx]
        case .hwio: return weight[((ky * kernelW + kx) * inChannels + i) * outChannels + o]
        }
    }
}

public struct BatchNorm: Sendable {
    public var gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor
    public var eps: Double

    /// The batch-norm as x·scale + shift per channel: scale = γ/√(var + ε), shift = β − mean·scale
    /// (the one definition: the compiler's folds, the host encoding and the ANN use it).
    public var affine: (scale: [Double], shift: [Double]) {
        let g = gamma.toDoubles(), be = beta.toDoubles(), m = mean.toDoubles(), v = variance.toDoubles()
        let scale = g.indices.map { g[$0] / (v[$0] + eps).squareRoot() }
        return (scale, g.indices.map { be[$0] - m[$0] * scale[$0] })
    }

    public init(gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: Double) {
        self.gamma = gamma
        self.beta = beta
        self.mean = mean
        self.variance = variance
        self.eps = eps
    }
}

public struct Pool2D: Sendable {
    public var sizeH: Int, sizeW: Int
    public var strideH: Int, strideW: Int
    public var paddingSpec: PaddingSpec
    public var padding: Padding2D

    public init(sizeH: Int, sizeW: Int, strideH: Int, strideW: Int, paddingSpec: PaddingSpec, padding: Padding2D) {
        self.sizeH = sizeH
        self.sizeW = sizeW
        self.strideH = strideH
        self.strideW = strideW
        self.paddingSpec = paddingSpec
        self.padding = padding
    }
}

public enum NodeAttributes: Sendable {
    case input(shape: [Int])
    case dense(Dense)
    case conv2d(Conv2D)
    case batchnorm(BatchNorm)
    case asn(ASNParameters)
    /// A ReLU; in ASNN mode it runs as a graded-spike ASN with these parameters (taken from
    /// `defaults.asn`, spike forced to graded); nil when the file gives no ASN defaults.
    case relu(ASNParameters?)
    case maxpool2d(Pool2D)
    case avgpool2d(Pool2D)
    case flatten
    case add
    /// The readout. `leak`: its own leaky dynamics (NIR's LI, CubaLI; kind `.leaky` or
    /// `.currentBased`, never firing): v ← memDecay·v + memGain·drive + memLeak on the summed
    /// input plus bias; nil: the ASN's filtered readout, or for an IF-family network v ← v + x.
    case readout(tauPhi: Double, leak: LIFParameters? = nil)
    /// An `if`, `lif` or `cuba_lif` node.
    case lif(LIFParameters)
}

public struct Node: Sendable {
    public var name: String
    public var op: OpKind
    public var inputs: [String]
    public var attributes: NodeAttributes
    /// Channels-last output shape, set by shape inference.
    public var shape: [Int]

    /// The adaptive spiking neuron this node runs as: an `asn` node's parameters, or a `relu`'s
    /// graded ASN (payload ϑ(t_s)); nil for every other op and for a relu without ASN defaults.
    public var spikingNeuron: ASNParameters? {
        switch attributes {
        case .asn(let p): return p
        case .relu(let p): return p
        default: return nil
        }
    }

    /// The neuron model this node runs as in the spiking network, if it is a spiking node.
    public var neuronModel: NeuronModel? {
        switch attributes {
        case .asn(let p): return .asn(p)
        case .relu(let p): return p.map { .asn($0) }
        case .lif(let p): return .lif(p)
        default: return nil
        }
    }

    /// An `if`, `lif` or `cuba_lif` node.
    public var isIntegrateAndFire: Bool {
        if case .lif = attributes { return true }
        return false
    }

    public init(name: String, op: OpKind, inputs: [String], attributes: NodeAttributes, shape: [Int] = []) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.attributes = attributes
        self.shape = shape
    }

    public var outputCount: Int { shape.reduce(1, *) }
}

/// A validated model: nodes in topological order with shapes inferred.
public struct Model: Sendable {
    public var name: String
    public var file: String
    public var layouts: Layouts
    public var nodes: [Node]
    public var weightsFile: String?

    public init(name: String, file: String, layouts: Layouts, nodes: [Node], weightsFile: String? = nil) {
        self.name = name
        self.file = file
        self.layouts = layouts
        self.nodes = nodes
        self.weightsFile = weightsFile
    }

    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

    /// Names of nodes that consume each node's output.
    public var consumers: [String: [String]] {
        var out: [String: [String]] = [:]
        for n in nodes { for i in n.inputs { out[i, default: []].append(n.name) } }
        return out
    }

    /// Bytes of tensor data referenced by the model (as stored in its source).
    public var tensorBytes: Int {
        var total = 0
        for n in nodes {
            switch n.attributes {
            case .dense(let d): total += d.weight.sourceBytes + (d.bias?.sourceBytes ?? 0)
            case .conv2d(let c): total += c.weight.sourceBytes + (c.bias?.sourceBytes ?? 0)
            case .batchnorm(let b):
                total += b.gamma.sourceBytes + b.beta.sourceBytes + b.mean.sourceBytes + b.variance.sourceBytes
            default: break
            }
        }
        return total
    }
}
