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
}
