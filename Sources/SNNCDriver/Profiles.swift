// `snnc profile NAME` shows a hardware profile; `snnc profile --list` lists those found.
import SNNCHardware
import SNNCIR
import SNNCJSON
#if canImport(Glibc)
import Glibc
#endif

public enum Profiles {
    public static func searchPath() -> [String] {
        var env: [String: String] = [:]
        if let p = getenv("SNNC_PROFILE_PATH") { env["SNNC_PROFILE_PATH"] = String(cString: p) }
        return ProfileLoader.searchPath(environment: env, executable: CommandLine.arguments.first ?? "")
    }

    /// Loads `nameOrPath`, or fails with `profile-not-found` naming where it looked.
    public static func load(_ nameOrPath: String) -> Result<HardwareProfile, DiagnosticsError> {
        let dirs = searchPath()
        guard let path = ProfileLoader.resolve(nameOrPath, searchPath: dirs) else {
            return .failure(DiagnosticsError([Diagnostic(.error, .profileNotFound, file: nameOrPath, "no hardware profile named '\(nameOrPath)'",
                                                         notes: ["looked in " + dirs.joined(separator: ", "), "snnc profile --list shows the profiles found"])]))
        }
        return ProfileLoader.load(path: path, displayName: path)
    }

    public static func list() -> CommandResult {
        var r = CommandResult()
        var seen = Set<String>()
        var t = TextTable(headers: ["profile", "ASN", "cores", "neurons/core", "fan-in/core", "weights", "spikes", "file"],
                          alignments: [.left, .left, .right, .right, .right, .left, .left, .left])
        for dir in searchPath() {
            guard let d = opendir(dir) else { continue }
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n.hasSuffix(".json") { names.append(String(n.dropLast(5))) }
            }
            closedir(d)
            for n in names.sorted() where !seen.contains(n) {
                seen.insert(n)
                switch ProfileLoader.load(path: dir + "/" + n + ".json") {
                case .success(let p):
                    t.add([p.name, p.asnSupport.rawValue, groupedDigits(p.totalCores), groupedDigits(p.limits(core: 0).neurons),
                           groupedDigits(p.limits(core: 0).inputAxons), "\(p.numerics.weightBits)-bit",
                           p.spikes.graded ? "graded \(p.spikes.payloadBits)-bit" : "binary", dir + "/" + n + ".json"])
                case .failure(let e):
                    r.report(e.diagnostics)
                }
            }
        }
        r.stdout = t.render()
        return r
    }

    public static func show(_ nameOrPath: String, json: Bool) -> CommandResult {
        let p: HardwareProfile
        switch load(nameOrPath) {
        case .success(let x): p = x
        case .failure(let e): return .failure(e.diagnostics)
        }
        var r = CommandResult()
        let c = p.limits(core: 0)
        if json {
            r.stdout = JSONOutput.object([
                ("name", .string(p.name)), ("asn_support", .string(p.asnSupport.rawValue)),
                ("chips", .int(p.chips)), ("application_cores_per_chip", .int(p.applicationCoresPerChip)),
                ("total_cores", .int(p.totalCores)),
                ("core", .object([("neurons", .int(c.neurons)), ("state_memory_bytes", .int(c.stateMemoryBytes)),
                                  ("input_axons", .int(c.inputAxons)), ("output_axons", .int(c.outputAxons)),
                                  ("synapse_memory_bits", .int(c.synapseMemoryBits))])),
                ("weight_bits", .int(p.numerics.weightBits)), ("graded_spikes", .bool(p.spikes.graded)),
                ("payload_bits", .int(p.spikes.payloadBits)), ("sources", .array(p.sources.map { .string($0) })),
            ]).serialized()
            return r
        }
        var s = "profile '\(p.name)' (\(p.file))\n\(p.description)\n\n"
        var t = TextTable(headers: ["property", "value"], alignments: [.left, .left])
        t.add(["ASN support", p.asnSupport.rawValue + (p.missingFeatures.isEmpty ? "" : " — lacks: " + p.missingFeatures.joined(separator: "; "))])
        t.add(["chips", "\(p.chips) (\(p.chipMesh.rows)×\(p.chipMesh.cols) mesh), inter-chip hop cost \(fmt(p.interChipHopCost, 1))×"])
        t.add(["cores per chip", "\(p.coresPerChip) (\(p.applicationCoresPerChip) for applications), \(p.coreMesh.rows)×\(p.coreMesh.cols) mesh"])
        for (i, core) in (p.cores.count == 1 ? [c] : p.cores).enumerated() {
            let label = p.cores.count == 1 ? "per core" : "core \(i)"
            t.add([label, "\(groupedDigits(core.neurons)) neurons, \(humanBytes(core.stateMemoryBytes)) state, \(groupedDigits(core.inputAxons)) input axons, \(groupedDigits(core.outputAxons)) output axons, \(humanBytes(core.synapseMemoryBits / 8)) synapse memory (\(core.bitsPerSynapse) bits/synapse)" + (core.maxDestinations.map { ", ≤ \($0) destinations" } ?? "")])
        }
        t.add(["shared conv weights", p.sharedWeights ? "yes" : "no"])
        let n = p.numerics
        t.add(["weights", "\(n.weightBits)-bit, exponent \(n.weightExponentMin)…\(n.weightExponentMax) per \(n.exponentScope), rounding \(n.rounding.rawValue)"])
        t.add(["state bits", "I \(n.currentBits), S \(n.activationBits), Ŝ \(n.refractoryBits), ϑ \(n.thresholdBits); decays \(n.decayBits)-bit; overflow \(n.overflow.rawValue) (\(n.overflowIsError ? "error" : "warning") if possible)"])
        t.add(["spikes", p.spikes.graded ? "graded, \(p.spikes.payloadBits)-bit payload, \(p.spikes.multiplierBits)-bit multiplier" : "binary"])
        t.add(["router", "\(p.router.scheme.rawValue)" + (p.router.entries.map { ", \(groupedDigits($0)) entries" } ?? "") + ", \(fmt(p.router.hopLatencyNs, 1)) ns/hop, \(p.router.packetBits)-bit packets"])
        t.add(["timing", "clock \(fmt(p.clockHz / 1e6, 0)) MHz, timestep \(fmt(p.timestepUs, 0)) µs"])
        t.add(["energy", "synaptic op \(fmt(p.energy.synapticOpPJ, 1)) pJ, neuron update \(fmt(p.energy.neuronUpdatePJ, 1)) pJ, hop \(fmt(p.energy.spikeHopPJ, 1)) pJ, payload bit \(fmt(p.energy.payloadBitPJ, 2)) pJ"])
        s += t.render() + "\nsources:\n" + p.sources.map { "- " + $0 }.joined(separator: "\n") + "\n"
        r.stdout = s
        return r
    }
}
