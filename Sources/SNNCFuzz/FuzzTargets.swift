// The fuzz targets: each takes one byte string and drives the same code the CLI runs on it
// (Docs/fuzzing.md). Used by the libFuzzer binary `snnc-fuzz` (built with -DSNNC_FUZZ and
// -sanitize=fuzzer,address by Tests/Fuzz/run.sh), by its replay mode, and by the test suite,
// which runs every file of the crash corpus (Tests/Fuzz/Corpus/) through `run` in-process.
//
// Every target must return for every input: a diagnostic is a normal outcome, a trap is a bug.
#if canImport(Glibc)
import Glibc
#endif
import SNNCArtefact
import SNNCEmulator
import SNNCHardware
import SNNCIR
import SNNCImport
import SNNCPasses
import SNNCReference

public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A model JSON (first file of a container, or the whole input), loaded, lowered to the
    /// spiking network and, when small, compiled for `generic` through every pass.
    case model
    /// A safetensors file: header, offsets, every tensor decoded.
    case safetensors
    /// A hardware profile JSON; when it loads, a small fixed network is compiled for it.
    case profile
    /// A data set: a container whose first file is a .csv or a .json manifest, the rest the
    /// files the manifest names (IDX, .npy, .npz, gzip).
    case data
    /// An artefact directory as a container (layers.json, cores.json, weights.bin,
    /// axon-tables.bin, host.bin, …); when it loads and is small, emulated for a few steps.
    case artefact
    /// An ONNX model (first file of a container, or the whole input; the rest its external data
    /// files), imported, lowered and, when small, compiled for `generic` like `model`.
    case onnx
    /// A NIR graph (HDF5, through libhdf5), imported, lowered and, when small, compiled like `model`.
    case nir
}

/// What one run ended with: the diagnostic ids reported (empty when the input was accepted).
public struct FuzzOutcome: Sendable, Equatable {
    public var accepted: Bool
    public var ids: [String]
}

/// Several files in one byte string, so a mutation fuzzer can change any of them:
/// each file starts with the marker 0x00 0x00 "FILE:" name "\n" and runs to the next marker.
/// An input without a marker is one file named by the target's default.
public enum FuzzContainer {
    static let marker: [UInt8] = [0, 0] + Array("FILE:".utf8)

    public static func pack(_ files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for f in files { out += marker + Array(f.name.utf8) + [0x0A] + f.bytes }
        return out
    }

    /// The files, in order; names are kept to [A-Za-z0-9._-] (at most 64 bytes), others dropped.
    public static func unpack(_ b: [UInt8], defaultName: String) -> [(name: String, bytes: [UInt8])] {
        var starts: [Int] = []
        var i = 0
        while i + marker.count <= b.count {
            if b[i] == 0, b[i + 1] == 0, Array(b[i..<(i + marker.count)]) == marker { starts.append(i); i += marker.count } else { i += 1 }
        }
        guard !starts.isEmpty else { return [(defaultName, b)] }
        var files: [(String, [UInt8])] = []
        for (k, s) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1] : b.count
            var j = s + marker.count
            var name: [UInt8] = []
            while j < end, b[j] != 0x0A { name.append(b[j]); j += 1 }
            let ok = !name.isEmpty && name.count <= 64 && name.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
            } && name != Array(".".utf8) && name != Array("..".utf8)
            guard ok else { continue }
            files.append((String(decoding: name, as: UTF8.self), j < end ? Array(b[(j + 1)..<end]) : []))
        }
        return files
    }
}

public enum Fuzz {
    /// A fresh private directory for one run (runs may go in parallel, as the tests do).
    static func makeScratch() -> String? {
        var template = Array("/tmp/snnc-fuzz-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { p -> String? in
            guard let r = mkdtemp(p.baseAddress!) else { return nil }
            return String(cString: r)
        }
    }

    /// Writes the container's files into `dir`; returns their paths in order.
    static func materialise(_ bytes: [UInt8], defaultName: String, in dir: String) -> [String] {
        var paths: [String] = []
        for f in FuzzContainer.unpack(bytes, defaultName: defaultName) {
            let p = dir + "/" + f.name
            if (try? writeFileAtomically(p, f.bytes)) != nil, !paths.contains(p) { paths.append(p) }
        }
        return paths
    }

    static let generic: HardwareProfile? = try? ProfileCatalog.load("generic", directories: []).get()

    /// A small network every profile that runs ASNs can take (4 inputs, 8 ASNs, 3 classes).
    static let smallModel: Model? = {
        var w1: [Double] = [], w2: [Double] = []
        for i in 0..<32 { w1.append(Double((i * 7) % 11) / 10 - 0.5) }
        for i in 0..<24 { w2.append(Double((i * 5) % 13) / 12 - 0.5) }
        func list(_ v: [Double]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        let text = """
        {"format": "snnc-model", "version": 1, "name": "fuzz-small",
         "layouts": {"activations": "channels_last", "dense": "out_in", "conv_kernel": "OIHW"},
         "defaults": {"asn": {"tau_gamma": 15, "tau_eta": 50, "tau_beta": 50, "tau_phi": 2.5, "theta0": 0.1, "m_f": 0.1, "h": "normalize"},
                      "readout": {"tau_phi": 50}},
         "nodes": [{"name": "input", "op": "input", "shape": [4]},
                   {"name": "asn0", "op": "asn", "inputs": ["input"]},
                   {"name": "fc1", "op": "dense", "inputs": ["asn0"], "weight": {"shape": [8, 4], "values": \(list(w1))}},
                   {"name": "asn1", "op": "asn", "inputs": ["fc1"]},
                   {"name": "fc2", "op": "dense", "inputs": ["asn1"], "weight": {"shape": [3, 8], "values": \(list(w2))}},
                   {"name": "readout", "op": "readout", "inputs": ["fc2"]}]}
        """
        return ModelLoader.load(bytes: Array(text.utf8), baseDirectory: "/", displayName: "fuzz-small.json").model
    }()

    static func ids(_ d: [Diagnostic]) -> [String] { d.filter { $0.severity == .error }.map(\.id.rawValue) }

    /// Runs the compile pipeline (the CLI's passes, with the verifier) and returns its errors.
    static func compile(_ model: Model, _ profile: HardwareProfile) -> [String] {
        var unit = CompileUnit(model: model, profile: profile)
        do {
            _ = try Pipeline.run(&unit, verify: true, clock: { 0 }, rss: { 0 })
            return []
        } catch {
            return ids(error.diagnostics)
        }
    }

    /// One input through one target.
    public static func run(_ target: FuzzTarget, _ bytes: [UInt8]) -> FuzzOutcome {
        guard let dir = makeScratch() else { return FuzzOutcome(accepted: false, ids: [DiagnosticID.outputUnwritable.rawValue]) }
        defer { removeDirectoryOfFiles(dir) }
        return run(target, bytes, in: dir)
    }

    static func run(_ target: FuzzTarget, _ bytes: [UInt8], in dir: String) -> FuzzOutcome {
        func materialise(_ bytes: [UInt8], defaultName: String) -> [String] { Self.materialise(bytes, defaultName: defaultName, in: dir) }
        switch target {
        case .model, .onnx, .nir:
            let name = target == .onnx ? "model.onnx" : (target == .nir ? "model.nir" : "model.json")
            let paths = materialise(bytes, defaultName: name)
            guard let path = paths.first else { return FuzzOutcome(accepted: false, ids: []) }
            let loaded = target == .model ? ModelLoader.load(path: path) : ModelFiles.load(path: path)
            guard let model = loaded.model else { return FuzzOutcome(accepted: false, ids: ids(loaded.diagnostics)) }
            _ = GraphStats.table(model)
            var errors: [String] = []
            if case .failure(let e) = SpikingNetwork.lower(model) { errors += ids(e.diagnostics) }
            // The mapper on small graphs only: a fuzzer's 10^6-neuron conv would take seconds.
            let neurons = model.nodes.reduce(0) { $0 + (checkedProduct($1.shape) ?? Int.max / 2) }
            if let g = generic, neurons <= 50_000 { errors += compile(model, g) }
            return FuzzOutcome(accepted: errors.isEmpty, ids: errors)
        case .safetensors:
            let paths = materialise(bytes, defaultName: "weights.safetensors")
            guard let path = paths.first else { return FuzzOutcome(accepted: false, ids: []) }
            var bag = DiagnosticBag(file: path)
            guard let f = SafetensorsFile.open(path: path, displayName: "weights.safetensors", bag: &bag) else {
                return FuzzOutcome(accepted: false, ids: ids(bag.items))
            }
            for (_, e) in f.entries.sorted(by: { $0.key < $1.key }) { _ = f.tensor(e, displayName: "weights.safetensors")?.toDoubles() }
            return FuzzOutcome(accepted: !bag.hasErrors, ids: ids(bag.items))
        case .profile:
            let paths = materialise(bytes, defaultName: "profile.json")
            guard let path = paths.first else { return FuzzOutcome(accepted: false, ids: []) }
            switch ProfileLoader.load(path: path) {
            case .failure(let e): return FuzzOutcome(accepted: false, ids: ids(e.diagnostics))
            case .success(let p):
                guard let m = smallModel else { return FuzzOutcome(accepted: true, ids: []) }
                let errors = compile(m, p)
                return FuzzOutcome(accepted: errors.isEmpty, ids: errors)
            }
        case .data:
            let paths = materialise(bytes, defaultName: "data.csv")
            guard let path = paths.first else { return FuzzOutcome(accepted: false, ids: []) }
            switch DataLoader.load(path: path) {
            case .failure(let e): return FuzzOutcome(accepted: false, ids: ids(e.diagnostics))
            case .success: return FuzzOutcome(accepted: true, ids: [])
            }
        case .artefact:
            let paths = materialise(bytes, defaultName: "layers.json")
            guard !paths.isEmpty else { return FuzzOutcome(accepted: false, ids: []) }
            let net: EmuNetwork
            // The manifest check on its own (its outcome aside), then the decoders behind it.
            _ = try? ArtefactFormat.verify(dir)
            do { net = try ArtefactReader.load(dir, maxSynapses: 1 << 20, verifyManifest: false) } catch {
                return FuzzOutcome(accepted: false, ids: [DiagnosticID.artefactInvalid.rawValue])
            }
            let compartments = net.layers.reduce(0) { $0 + $1.compartments }
            if compartments <= 100_000 {
                var o = EmulationOptions()
                o.durationMs = 4
                o.threads = 1
                let emu = Emulator(net, options: o)
                let inputs = net.layers.first.map { max(1, $0.compartments) } ?? 1
                _ = emu.run(images: [[Double](repeating: 0, count: inputs), [Double](repeating: 1, count: inputs)])
            }
            return FuzzOutcome(accepted: true, ids: [])
        }
    }
}
