// Writing lava-dl's netx network format (`snnc export-lava`): HDF5 with `/layer/{0…n−1}`, each a
// group with `type` ("input" or "dense"), `shape`, a `neuron` group (`type` "CUBA", `iDecay`,
// `vDecay`, `vThMant`, `refDelay`, `gradedSpike`), and for a dense layer `weight` [out, in] and
// `bias`. lava.lib.dl.netx.hdf5.Network reads it (lava-dl 0.6.0): `du = iDecay − 1`,
// `dv = vDecay`, `vth = vThMant`, `bias_mant = bias` with `bias_exp = 6`, and each weight
// matrix through `optimize_weight_bits`, which keeps every integer of LoihiRules.weightRange
// (Docs/lava.md). Written through the one libhdf5 wrapper (HDF5Writer: a forked child, no
// object times, so the same network gives the same bytes).
import SNNCIR

/// One netx layer with the integers Lava's processes will hold.
public struct NetxLayer: Sendable, Equatable {
    public enum Kind: String, Sendable { case input, dense }
    public var kind: Kind
    public var neurons: Int
    /// netx's neuron fields: iDecay = du + 1, vDecay = dv, vThMant = vth.
    public var iDecay: Int, vDecay: Int, vThMant: Int
    /// Dense: [out][in] integers (Lava's weights) and per-neuron bias mantissas.
    public var inFeatures: Int
    public var weight: [Int64]
    public var bias: [Int64]?

    public init(kind: Kind, neurons: Int, iDecay: Int, vDecay: Int, vThMant: Int, inFeatures: Int = 0, weight: [Int64] = [], bias: [Int64]? = nil) {
        (self.kind, self.neurons, self.iDecay, self.vDecay, self.vThMant) = (kind, neurons, iDecay, vDecay, vThMant)
        (self.inFeatures, self.weight, self.bias) = (inFeatures, weight, bias)
    }
}

/// Why a netx file could not be read back.
public struct LavaExportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

public enum LavaExport {
    /// The datasets of a netx file for `layers`, in writing order.
    static func datasets(_ layers: [NetxLayer]) -> [(path: String, value: HDF5Dataset)] {
        var out: [(path: String, value: HDF5Dataset)] = []
        for (i, l) in layers.enumerated() {
            let g = "/layer/\(i)"
            out.append((g + "/type", .strings(shape: [], [l.kind.rawValue])))
            out.append((g + "/shape", .ints(shape: [1], [Int64(l.neurons)])))
            out.append((g + "/neuron/type", .strings(shape: [], ["CUBA"])))
            out.append((g + "/neuron/iDecay", .ints(shape: [], [Int64(l.iDecay)])))
            out.append((g + "/neuron/vDecay", .ints(shape: [], [Int64(l.vDecay)])))
            out.append((g + "/neuron/vThMant", .ints(shape: [], [Int64(l.vThMant)])))
            out.append((g + "/neuron/refDelay", .ints(shape: [], [1])))
            out.append((g + "/neuron/gradedSpike", .ints(shape: [], [0])))
            if l.kind == .dense {
                out.append((g + "/weight", .ints(shape: [l.neurons, l.inFeatures], l.weight)))
                if let b = l.bias { out.append((g + "/bias", .ints(shape: [l.neurons], b))) }
            }
        }
        out.append(("/simulation/Ts", .doubles(shape: [], [1])))
        return out
    }

    /// Writes `layers` as a netx file at `path`; nil on success, else why not.
    public static func write(_ layers: [NetxLayer], to path: String) -> String? {
        HDF5Writer.write(datasets(layers), to: path)
    }

    /// Reads a netx file back (its layers as `write` lays them out), or why not: what a test and
    /// a user check an export against.
    public static func read(_ path: String) -> Result<[NetxLayer], LavaExportError> {
        let f: HDF5File
        switch HDF5File.open(path) {
        case .success(let x): f = x
        case .failure(let e): return .failure(LavaExportError(message: "\(e)"))
        }
        guard let names = f.children("/layer") else { return .failure(LavaExportError(message: "no /layer group")) }
        var out: [NetxLayer] = []
        for i in 0..<names.count {
            let g = "/layer/\(i)"
            func int(_ p: String) -> Int? { f.numbers(g + p).flatMap { $0.values.count == 1 ? Int(exactly: $0.values[0]) : nil } }
            guard let type = f.strings(g + "/type")?.values.first, let kind = NetxLayer.Kind(rawValue: type),
                  let shape = f.numbers(g + "/shape")?.values, let iD = int("/neuron/iDecay"), let vD = int("/neuron/vDecay"), let vth = int("/neuron/vThMant") else {
                return .failure(LavaExportError(message: "\(g) is not a layer snnc writes"))
            }
            let n = shape.reduce(1) { $0 * Int($1) }
            var l = NetxLayer(kind: kind, neurons: n, iDecay: iD, vDecay: vD, vThMant: vth)
            if kind == .dense {
                guard let w = f.numbers(g + "/weight"), w.shape.count == 2 else { return .failure(LavaExportError(message: "\(g)/weight is not a matrix")) }
                l.inFeatures = w.shape[1]
                l.weight = w.values.map { Int64($0) }
                l.bias = f.numbers(g + "/bias").map { $0.values.map { Int64($0) } }
            }
            out.append(l)
        }
        return .success(out)
    }
}
