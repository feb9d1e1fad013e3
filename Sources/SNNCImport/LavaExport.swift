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
    public enum Kind: String, Sendable { case input, dense, conv, flatten }
    public var kind: Kind
    /// The layer's neurons as netx's file gives them: [C, H, W] for a spatial layer, [n] otherwise
    /// (netx reverses it to Lava's (W, H, C)).
    public var shape: [Int]
    public var neurons: Int { shape.reduce(1, *) }
    /// netx's neuron fields: iDecay = du + 1, vDecay = dv, vThMant = vth.
    public var iDecay: Int, vDecay: Int, vThMant: Int
    /// Dense: [out][in] integers; conv: [out][in][kH][kW] (torch's OIHW). Per-neuron (dense) or
    /// per-channel (conv) bias mantissas.
    public var inFeatures: Int
    public var weight: [Int64]
    public var bias: [Int64]?
    /// Conv geometry, [H, W] each; the kernel [kH, kW].
    public var kernel: [Int] = [], stride: [Int] = [], padding: [Int] = [], dilation: [Int] = []

    public init(kind: Kind, shape: [Int], iDecay: Int = 0, vDecay: Int = 0, vThMant: Int = 0, inFeatures: Int = 0, weight: [Int64] = [], bias: [Int64]? = nil) {
        (self.kind, self.shape, self.iDecay, self.vDecay, self.vThMant) = (kind, shape, iDecay, vDecay, vThMant)
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
            if l.kind == .flatten { continue }
            out.append((g + "/shape", .ints(shape: [l.shape.count], l.shape.map { Int64($0) })))
            out.append((g + "/neuron/type", .strings(shape: [], ["CUBA"])))
            out.append((g + "/neuron/iDecay", .ints(shape: [], [Int64(l.iDecay)])))
            out.append((g + "/neuron/vDecay", .ints(shape: [], [Int64(l.vDecay)])))
            out.append((g + "/neuron/vThMant", .ints(shape: [], [Int64(l.vThMant)])))
            out.append((g + "/neuron/refDelay", .ints(shape: [], [1])))
            out.append((g + "/neuron/gradedSpike", .ints(shape: [], [0])))
            switch l.kind {
            case .dense:
                out.append((g + "/weight", .ints(shape: [l.neurons, l.inFeatures], l.weight)))
            case .conv:
                let outC = l.shape[0], inC = l.kernel.isEmpty ? 0 : l.weight.count / max(1, outC * l.kernel[0] * l.kernel[1])
                out.append((g + "/weight", .ints(shape: [outC, inC] + l.kernel, l.weight)))
                out.append((g + "/inChannels", .ints(shape: [], [Int64(inC)])))
                out.append((g + "/outChannels", .ints(shape: [], [Int64(outC)])))
                out.append((g + "/kernelSize", .ints(shape: [2], l.kernel.map { Int64($0) })))
                out.append((g + "/stride", .ints(shape: [2], l.stride.map { Int64($0) })))
                out.append((g + "/padding", .ints(shape: [2], l.padding.map { Int64($0) })))
                out.append((g + "/dilation", .ints(shape: [2], l.dilation.map { Int64($0) })))
                out.append((g + "/groups", .ints(shape: [], [1])))
            default: break
            }
            if let b = l.bias { out.append((g + "/bias", .ints(shape: [b.count], b))) }
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
            func ints(_ p: String) -> [Int] { (f.numbers(g + p)?.values ?? []).compactMap { Int(exactly: $0) } }
            guard let type = f.strings(g + "/type")?.values.first, let kind = NetxLayer.Kind(rawValue: type) else {
                return .failure(LavaExportError(message: "\(g) is not a layer snnc writes"))
            }
            if kind == .flatten {
                out.append(NetxLayer(kind: .flatten, shape: []))
                continue
            }
            guard let iD = int("/neuron/iDecay"), let vD = int("/neuron/vDecay"), let vth = int("/neuron/vThMant") else {
                return .failure(LavaExportError(message: "\(g)/neuron is not a CUBA neuron snnc writes"))
            }
            var l = NetxLayer(kind: kind, shape: ints("/shape"), iDecay: iD, vDecay: vD, vThMant: vth)
            if kind == .dense || kind == .conv {
                guard let w = f.numbers(g + "/weight"), w.shape.count == (kind == .dense ? 2 : 4) else { return .failure(LavaExportError(message: "\(g)/weight has the wrong rank")) }
                l.inFeatures = w.shape[1]
                l.weight = w.values.map { Int64($0) }
                l.bias = f.numbers(g + "/bias").map { $0.values.map { Int64($0) } }
                if kind == .conv { (l.kernel, l.stride, l.padding, l.dilation) = (Array(w.shape[2...]), ints("/stride"), ints("/padding"), ints("/dilation")) }
            }
            out.append(l)
        }
        return .success(out)
    }
}
