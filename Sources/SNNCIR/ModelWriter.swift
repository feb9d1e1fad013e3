// Writing model format v1 from Swift: a builder that collects nodes and tensors and writes
// model.json plus, if asked, model.safetensors beside it. Used by the synthetic compile-scale
// models, the benchmarks and the tests. (PyTorch users export with Examples/training.)
import SNNCJSON

public struct ModelWriter {
    public enum TensorPlacement: Sendable {
        /// Tensors go into a .safetensors file beside the model and are referenced by name.
        case safetensors(fileName: String)
        /// Tensors are written into the JSON as {"shape": [...], "data": [...]}.
        case inline
    }

    public var name: String
    public var layouts: Layouts
    public var asnDefaults: [(String, JSONOutput)]
    public var readoutTauPhi: Double
    public var comment: String?
    public private(set) var nodes: [JSONOutput] = []
    public private(set) var tensors: [(name: String, shape: [Int], values: [Float])] = []
    let placement: TensorPlacement

    public init(name: String, placement: TensorPlacement, layouts: Layouts = Layouts(),
                asnDefaults: [(String, JSONOutput)], readoutTauPhi: Double = 50, comment: String? = nil) {
        self.name = name
        self.placement = placement
        self.layouts = layouts
        self.asnDefaults = asnDefaults
        self.readoutTauPhi = readoutTauPhi
        self.comment = comment
    }

    /// The paper's neuron settings (τ_γ 15, τ_η = τ_β = 50, τ_φ 2.5 as in the authors' code, ϑ0 = m_f).
    public static func paperASNDefaults(theta0: Double = 0.1) -> [(String, JSONOutput)] {
        [("tau_gamma", .double(15)), ("tau_eta", .double(50)), ("tau_beta", .double(50)), ("tau_phi", .double(2.5)),
         ("theta0", .double(theta0)), ("m_f", .double(theta0)), ("h", .string("normalize"))]
    }

    /// A tensor field value, stored according to the placement.
    public mutating func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> JSONOutput {
        switch placement {
        case .safetensors:
            tensors.append((name, shape, values))
            return .object([("ref", .string(name))])
        case .inline:
            return .object([("shape", .array(shape.map { .int($0) })), ("data", .array(values.map { .double(Double($0)) }))])
        }
    }

    public mutating func add(_ name: String, _ op: OpKind, inputs: [String], _ fields: [(String, JSONOutput)] = []) {
        var members: [(String, JSONOutput)] = [("name", .string(name)), ("op", .string(op.rawValue))]
        if op != .input { members.append(("inputs", .array(inputs.map { .string($0) }))) }
        nodes.append(.object(members + fields))
    }

    public func modelJSON() -> JSONOutput {
        var top: [(String, JSONOutput)] = [("format", .string("snnc-model")), ("version", .int(1)), ("name", .string(name))]
        if let comment { top.append(("comment", .string(comment))) }
        top.append(("layouts", .object([("activations", .string("channels_last")),
                                        ("dense", .string(layouts.dense.rawValue)),
                                        ("conv_kernel", .string(layouts.kernel.rawValue))])))
        if case .safetensors(let f) = placement { top.append(("weights", .string(f))) }
        top.append(("defaults", .object([("asn", .object(asnDefaults)),
                                         ("readout", .object([("tau_phi", .double(readoutTauPhi))]))])))
        top.append(("nodes", .array(nodes)))
        return .object(top)
    }

    /// Writes model.json (named `modelFile`) and the weights file into `directory`, atomically.
    public func write(directory: String, modelFile: String = "model.json") throws(FileIOError) {
        if case .safetensors(let f) = placement {
            try writeFileAtomically(resolvePath(f, relativeTo: directory), encodeSafetensors(tensors, metadata: [("generator", "snnc")]))
        }
        let pretty: Bool
        if case .inline = placement { pretty = false } else { pretty = true }
        try writeFileAtomically(resolvePath(modelFile, relativeTo: directory), modelJSON().serialized(pretty: pretty))
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) with normal samples (Box–Muller), so
/// synthetic models are byte-identical on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spare: Double?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func normal() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#endif
