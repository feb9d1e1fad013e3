// What flows through the pipeline: the model graph (rewritten by the passes), the target
// profile, and what the passes have decided so far.
import SNNCArtefact
import SNNCHardware
import SNNCIR

public struct CompileUnit: Sendable {
    public var model: Model
    /// The target; with `boardChoice == .auto` the partition pass sets its board.
    public var profile: HardwareProfile
    /// Which board of the profile: its default, or the smallest that holds the partition.
    public var boardChoice: BoardChoice = .profile
    /// Passes run so far.
    public var completed: [String] = []
    /// Warnings and notes the passes produced.
    public var diagnostics: [Diagnostic] = []
    /// encode-input: nodes computed on the host once per input (input → … → the first ASNs).
    public var hostNodes: [String] = []
    /// encode-input: ASN nodes whose current is injected by the host.
    public var injectedLayers: [String] = []
    /// merge-pooling: ASN node → the max-pool merged into it (its neurons are pooled positions).
    public var pooledLayers: [String: (pool: String, window: Pool2D, preShape: [Int])] = [:]
    /// scale-by-h: weighted node → (source ASN, h applied).
    public var scaledBy: [String: (source: String, h: Double)] = [:]
    /// quantize: the per-layer report.
    public var quantization: [LayerQuantization] = []
    public var neuronFormats: [String: NeuronFixedPoint] = [:]
    /// Arousal: the network is compiled at ϑ0_lp; quantize adds each layer's ϑ0_hp registers.
    public var arousal: Arousal?
    /// ϑ0 (= m_f) every ASN was set to before compiling (--theta0 or arousal's ϑ0_lp).
    public var theta0Override: Double?
    /// `--calibrate`: measured state ranges per ASN layer; quantize sizes their state LSBs
    /// from them instead of the static analysis.
    public var calibration: Calibration?
    /// quantize: per ASN layer, the state LSB's reason (calibrated ranges and what fits).
    public var stateRanges: [StateRangeReport] = []
    /// quantize: the payload format of each graded layer.
    public var payloads: [PayloadQuantization] = []
    /// partition: the layers as the mapper sees them, and their blocks and cores.
    public var graph: MapGraph?
    public var partition: PartitionResult?
    /// place: the mesh slot of each core, with the optimiser's cost against naive placement.
    public var placement: Placement?
    /// Measured spikes per neuron per step for each layer (from `--rates`); nil: uniform estimate.
    public var measuredRates: [String: Double]?
    /// route: keys, axon tables, router tables.
    public var routing: Routing?
    /// build-synapses: every core's image, encoded (Docs/artefact.md) and deflated: cores.bin's
    /// bytes; per readout layer the LSB of its accumulators.
    public var coreImages = StoredImages()
    public var readoutLSB: [String: Double] = [:]
    /// emit: the artefact's machine-readable files (name, bytes), in order.
    public var artefactFiles: [(String, [UInt8])] = []

    public init(model: Model, profile: HardwareProfile) {
        self.model = model
        self.profile = profile
    }

    /// The spike height h of a binary ASN layer (resolved: "normalize" → 1 / f(1)); nil otherwise.
    public func spikeHeight(of layer: String) -> Double? {
        switch model.node(named: layer)?.attributes {
        case .asn(let p) where p.spike == .binary:
            return TransferFunction(theta0: p.theta0, mf: p.mf, tauGamma: p.tauGamma, tauEta: p.tauEta).resolve(p.h)
        case .lif(let p): return p.spikeHeight
        default: return nil
        }
    }

    /// The gain an IF-family layer applies to one step's input (LIFParameters.inputGain), which
    /// scale-by-h folds into its incoming weights and biases; 1 for every other layer.
    public func inputGain(of layer: String) -> Double {
        if case .lif(let p) = model.node(named: layer)?.attributes { return p.inputGain }
        return 1
    }

    public func index(of name: String) -> Int? { model.nodes.firstIndex { $0.name == name } }

    /// Nodes that consume `name`'s output.
    public func consumers(of name: String) -> [Int] {
        model.nodes.indices.filter { model.nodes[$0].inputs.contains(name) }
    }

    /// The nodes that feed `name` through linear, unweighted nodes (batch-norm, add, flatten,
    /// pooling): the weighted layers or ASNs (or host nodes) where each path stops.
    public func upstreamSources(of name: String) -> [Node] {
        guard let i = index(of: name) else { return [] }
        var stack = model.nodes[i].inputs
        var seen = Set<String>()
        var out: [Node] = []
        while let s = stack.popLast() {
            guard !seen.contains(s), let si = index(of: s) else { continue }
            seen.insert(s)
            let n = model.nodes[si]
            if [.batchnorm, .add, .flatten, .avgpool2d, .maxpool2d].contains(n.op) { stack += n.inputs } else { out.append(n) }
        }
        return out
    }

    /// The layer a node drives through linear nodes (batch-norm, add, flatten, average pooling):
    /// the first ASN or ReLU — or the readout, when `includingReadout`.
    public func drivenLayer(by name: String, includingReadout: Bool = false) -> String? {
        var frontier = [name]
        var seen = Set<String>()
        while let x = frontier.popLast() {
            for c in consumers(of: x) {
                let cn = model.nodes[c]
                if !seen.insert(cn.name).inserted { continue }
                if cn.op.isSpiking || (includingReadout && cn.op == .readout) { return cn.name }
                if [.batchnorm, .add, .flatten, .avgpool2d].contains(cn.op) { frontier.append(cn.name) }
            }
        }
        return nil
    }

    /// Removes node `i`, rewiring its consumers to its (single) input.
    public mutating func bypass(_ i: Int) {
        let n = model.nodes[i]
        let replacement = n.inputs[0]
        for j in model.nodes.indices {
            model.nodes[j].inputs = model.nodes[j].inputs.map { $0 == n.name ? replacement : $0 }
        }
        model.nodes.remove(at: i)
    }

    /// A readable listing of the graph and the decisions so far (`--dump-after`).
    public func dump() -> String {
        var s = "; after \(completed.last ?? "nothing") — model '\(model.name)', profile '\(profile.name)'\n"
        for n in model.nodes {
            var line = "\(n.name) = \(n.op.rawValue)(\(n.inputs.joined(separator: ", "))) : [\(n.shape.map(String.init).joined(separator: ", "))]"
            switch n.attributes {
            case .dense(let d): line += "  weight [\(d.outFeatures)×\(d.inFeatures)]\(d.bias != nil ? " +bias" : "")"
            case .conv2d(let c): line += "  kernel \(c.outChannels)×\(c.inChannels)×\(c.kernelH)×\(c.kernelW) stride \(c.strideH)×\(c.strideW)\(c.bias != nil ? " +bias" : "")"
            case .batchnorm(let b): line += "  eps \(b.eps)"
            case .asn(let p): line += "  ϑ0 \(p.theta0) m_f \(p.mf) \(p.spike.rawValue)"
            default: break
            }
            if hostNodes.contains(n.name) { line += "  [host]" }
            if injectedLayers.contains(n.name) { line += "  [injected current]" }
            if let p = pooledLayers[n.name] { line += "  [max-pooled \(p.window.sizeH)×\(p.window.sizeW)/\(p.window.strideH): \(p.preShape.reduce(1, *)) compartments → \(n.shape.reduce(1, *)) neurons]" }
            if let sc = scaledBy[n.name] { line += "  [× h \(sc.h) of '\(sc.source)']" }
            if let q = quantization.first(where: { $0.node == n.name }) {
                line += "  [q: \(q.bits)-bit × 2^\(q.exponent), SQNR \(formatFixed(q.sqnrDB, 1)) dB, zeroed \(q.zeroed), clipped \(q.clipped)]"
            }
            s += line + "\n"
        }
        if !neuronFormats.isEmpty {
            s += "; neuron fixed point\n"
            for name in neuronFormats.keys.sorted() {
                let f = neuronFormats[name]!
                s += "\(name): state LSB 2^\(f.stateExponent), ϑ0 \(f.theta0), m_f \(f.mf)/2^\(f.decayBits), α_β \(f.alphaBeta) α_φ \(f.alphaPhi) α_η \(f.alphaEta) α_γ \(f.alphaGamma) (/2^\(f.decayBits))\n"
            }
        }
        return s
    }
}

/// `snnc compile --chips`: the profile's default board, or the smallest listed board that holds
/// the partition (`auto`); a given chip count is resolved by the driver before the passes.
public enum BoardChoice: Sendable, Equatable {
    case profile
    case auto
}
