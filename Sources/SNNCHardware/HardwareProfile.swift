// Hardware profiles: every limit and number format of a target chip, read from
// HardwareProfiles/NAME.json through json-c and validated like a model (one diagnostic per
// problem, stable ids, exit 1). Docs/hardware-profiles.md gives each number with its source.
// Nothing in snnc hard-codes a chip: passes and the mapper read these fields.
import SNNCIR
import SNNCJSON

/// How far a chip can run the ASN.
public enum ASNSupport: String, Sendable {
    /// The chip's neuron implements the ASN recurrences.
    case native
    /// The profile describes an ASN-capable core under the chip's memory and routing limits
    /// (the chip's own neuron cannot run the ASN as is).
    case emulatedCore = "emulated-core"
    /// The chip cannot run the ASN; compiling is refused, naming `missingFeatures`.
    case none
}

public enum OverflowMode: String, Sendable { case saturate, wrap }

public enum RouterScheme: String, Sendable {
    /// Per-core output axon tables (Loihi, TrueNorth, DYNAP-CNN destinations).
    case axonTable = "axon-table"
    /// Key/mask multicast routing tables per router (SpiNNaker).
    case keyMask = "key-mask"
}

/// The limits of one core.
public struct CoreLimits: Sendable, Equatable {
    public var neurons: Int
    public var stateMemoryBytes: Int
    public var inputAxons: Int
    public var outputAxons: Int
    public var synapseMemoryBits: Int
    /// Bits one explicit synapse costs (weight + target index etc.).
    public var bitsPerSynapse: Int
    /// Bits of state per neuron (I, S, Ŝ, ϑ and their bookkeeping).
    public var stateBitsPerNeuron: Int
    /// Destination cores one core may send to (nil: unlimited).
    public var maxDestinations: Int?
}

public struct Numerics: Sendable, Equatable {
    public var weightBits: Int
    public var weightExponentMin: Int
    public var weightExponentMax: Int
    /// "layer" or "core": how widely one weight exponent is shared.
    public var exponentScope: String
    public var rounding: RoundingMode
    public var currentBits: Int, activationBits: Int, refractoryBits: Int, thresholdBits: Int
    public var decayBits: Int
    public var overflow: OverflowMode
    /// Whether possible overflow found by range analysis is an error (else a warning).
    public var overflowIsError: Bool
}

public struct Spikes: Sendable, Equatable {
    public var graded: Bool
    public var payloadBits: Int
    public var multiplierBits: Int
}

public struct Router: Sendable, Equatable {
    public var scheme: RouterScheme
    public var entries: Int?
    public var hopLatencyNs: Double
    public var linkSpikesPerStep: Int
    public var packetBits: Int
}

/// Cycles a core spends per unit of work in one step (the emulator's cycle model,
/// Docs/core-timing.md).
public struct CycleCosts: Sendable, Equatable {
    public var axonEvent: Double
    public var synapticOp: Double
    public var neuronUpdate: Double
    public var spikeOut: Double
    public var stepOverhead: Double
}

public struct Energy: Sendable, Equatable {
    public var synapticOpPJ: Double
    public var neuronUpdatePJ: Double
    public var spikeHopPJ: Double
    public var payloadBitPJ: Double
}

/// A board (or system) the chip comes in: how many chips, on what mesh.
public struct Board: Sendable, Equatable {
    public var name: String
    public var chips: Int
    public var chipMesh: Mesh

    public struct Mesh: Sendable, Equatable {
        public var rows: Int, cols: Int
        public init(rows: Int, cols: Int) { self.rows = rows; self.cols = cols }
    }

    public init(name: String, chips: Int, chipMesh: Mesh) {
        self.name = name
        self.chips = chips
        self.chipMesh = chipMesh
    }

    /// "1 chip", "4 chips".
    public static func count(_ chips: Int) -> String { "\(chips) chip\(chips == 1 ? "" : "s")" }

    /// A board without a product name: named by its chip count.
    public static func unnamed(chips: Int, rows: Int, cols: Int) -> Board {
        Board(name: count(chips), chips: chips, chipMesh: Mesh(rows: rows, cols: cols))
    }
}

public struct HardwareProfile: Sendable {
    public var name: String
    public var description: String
    /// Where it was read from: a path, or "HardwareProfiles/NAME.json (built in)" (ProfileCatalog.swift).
    public var file: String
    /// The JSON text it was read from (hashed into a compiled artefact's manifest).
    public var bytes: [UInt8] = []
    public var asnSupport: ASNSupport
    public var missingFeatures: [String]
    /// The chip family whose register rules the IF family follows (SNNCIR/ChipFamily.swift).
    public var family: ChipFamily = .generic
    /// Whether the chip's neurons are programmable (Loihi 2's microcode, SpiNNaker's ARM cores):
    /// then a family's fixed reset (ChipFamily.offeredReset) does not bind.
    public var programmableNeurons = false
    public var chips: Int
    public var chipMesh: (rows: Int, cols: Int)
    public var coresPerChip: Int
    public var applicationCoresPerChip: Int
    public var coreMesh: (rows: Int, cols: Int)
    public var interChipHopCost: Double
    /// How many layers' blocks one core may hold (1: a core runs one layer slice).
    public var layersPerCore: Int = 1
    /// Uniform limits, or one entry per core of a chip for heterogeneous chips (DYNAP-CNN).
    public var cores: [CoreLimits]
    public var sharedWeights: Bool
    public var numerics: Numerics
    public var spikes: Spikes
    public var router: Router
    public var clockHz: Double
    /// Cycle costs for the cycle model (nil: the profile gives none).
    public var cycles: CycleCosts? = nil
    public var timestepUs: Double
    public var energy: Energy
    public var sources: [String]

    /// The limits of core `i` of a chip.
    public func limits(core i: Int) -> CoreLimits { cores.count == 1 ? cores[0] : cores[i % cores.count] }
    public var totalCores: Int { chips * applicationCoresPerChip }
    /// The boards the chip comes in, fewest chips first (`chip.boards`; at least the default).
    public var boards: [Board] = []
    /// The board `chips` and `chipMesh` describe.
    public var board: Board { boards.first { $0.chips == chips } ?? .unnamed(chips: chips, rows: chipMesh.rows, cols: chipMesh.cols) }

    /// This profile on board `b` (its chips and chip mesh; every per-chip limit unchanged).
    public func on(_ b: Board) -> HardwareProfile {
        var p = self
        p.chips = b.chips
        p.chipMesh = (b.chipMesh.rows, b.chipMesh.cols)
        return p
    }

    /// The board with `n` chips, if the profile lists one.
    public func board(chips n: Int) -> Board? { boards.first { $0.chips == n } }

    /// The smallest listed board holding `cores` cores.
    public func smallestBoard(holding cores: Int) -> Board? { boards.first { $0.chips * applicationCoresPerChip >= cores } }
}

public enum ProfileLoader {
    /// Reads and checks the profile file at `path`.
    public static func load(path: String, displayName: String? = nil) -> Result<HardwareProfile, DiagnosticsError> {
        let shown = displayName ?? path
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 1 << 24) } catch {
            var bag = DiagnosticBag(file: shown)
            bag.error(.fileUnreadable, nil, "\(error)")
            return .failure(DiagnosticsError(bag.items))
        }
        return load(bytes: bytes, displayName: shown)
    }

    /// Reads and checks a profile's JSON text; `displayName` is where it came from (a path, or
    /// "HardwareProfiles/NAME.json (built in)") — shown in diagnostics and kept as the profile's `file`.
    public static func load(bytes: [UInt8], displayName shown: String) -> Result<HardwareProfile, DiagnosticsError> {
        var bag = DiagnosticBag(file: shown)
        let doc: JSONDocument
        do { doc = try JSONDocument.parse(bytes) } catch {
            bag.error(error.kind == .empty ? .jsonEmpty : .jsonSyntax, nil, error.message)
            return .failure(DiagnosticsError(bag.items))
        }
        var r = ProfileReader(bag: bag, file: shown)
        let profile = r.read(doc.root)
        if var profile, !r.bag.hasErrors {
            profile.bytes = bytes
            return .success(profile)
        }
        return .failure(DiagnosticsError(r.bag.items))
    }
}

/// Reads and checks every field; each problem is one diagnostic naming the field.
struct ProfileReader {
    var bag: DiagnosticBag
    let file: String
    var object = "profile"

    /// Sizes above this are absurd for any chip (a petabit of memory, 2^40 cores).
    static let absurd = 1 << 40
    /// State, payload and multiplier widths: the emulator holds a state times a k-bit multiplier
    /// in 64 bits, so b + k + 1 ≤ 63 (Docs/fixed-point.md).
    static let maxStateBits = 32
    static let maxDecayBits = 24

    mutating func section(_ v: JSONValue, _ key: String) -> JSONValue? {
        guard let s = v[key] else {
            bag.error(.fieldMissing, object, "section '\(key)' is missing")
            return nil
        }
        guard s.kind == .object else {
            bag.error(.fieldType, object, "'\(key)' must be an object, found \(s.kind.article)")
            return nil
        }
        return s
    }

    mutating func int(_ v: JSONValue?, _ path: String, min: Int = 1, max: Int = absurd, optional: Bool = false) -> Int? {
        guard let v else {
            if !optional { bag.error(.fieldMissing, object, "field '\(path)' is missing") }
            return nil
        }
        guard let i = v.int else {
            bag.error(.fieldType, object, "field '\(path)' must be an integer, found \(describe(v))")
            return nil
        }
        guard i >= min && i <= max else {
            bag.error(.paramRange, object, "field '\(path)' is \(i); it must be between \(min) and \(max)")
            return nil
        }
        return i
    }

    mutating func number(_ v: JSONValue?, _ path: String, min: Double = 0) -> Double? {
        guard let v else {
            bag.error(.fieldMissing, object, "field '\(path)' is missing")
            return nil
        }
        guard let d = v.double, d.isFinite else {
            bag.error(.fieldType, object, "field '\(path)' must be a number, found \(describe(v))")
            return nil
        }
        guard d >= min && d < 1e18 else {
            bag.error(.paramRange, object, "field '\(path)' is \(d); it must be ≥ \(min) and below 1e18")
            return nil
        }
        return d
    }

    mutating func string<T: RawRepresentable>(_ v: JSONValue?, _ path: String, as: T.Type) -> T? where T.RawValue == String {
        guard let v else {
            bag.error(.fieldMissing, object, "field '\(path)' is missing")
            return nil
        }
        guard let s = v.string, let t = T(rawValue: s) else {
            bag.error(.fieldValue, object, "field '\(path)' has value \(describe(v)), which is not one snnc knows")
            return nil
        }
        return t
    }

    mutating func bool(_ v: JSONValue?, _ path: String) -> Bool? {
        guard let v else {
            bag.error(.fieldMissing, object, "field '\(path)' is missing")
            return nil
        }
        guard let b = v.bool else {
            bag.error(.fieldType, object, "field '\(path)' must be true or false, found \(describe(v))")
            return nil
        }
        return b
    }

    mutating func pair(_ v: JSONValue?, _ path: String) -> (Int, Int)? {
        guard let v else {
            bag.error(.fieldMissing, object, "field '\(path)' is missing")
            return nil
        }
        guard v.kind == .array, v.count == 2, let a = v.element(0)?.int, let b = v.element(1)?.int else {
            bag.error(.fieldType, object, "field '\(path)' must be [rows, columns], found \(describe(v))")
            return nil
        }
        guard a >= 1, b >= 1, a <= 1 << 20, b <= 1 << 20 else {
            bag.error(.paramRange, object, "field '\(path)' is [\(a), \(b)]; both must be between 1 and \(1 << 20)")
            return nil
        }
        return (a, b)
    }

    mutating func core(_ c: JSONValue, _ prefix: String) -> CoreLimits? {
        let n = int(c["neurons"], prefix + ".neurons")
        let sm = int(c["state_memory_bytes"], prefix + ".state_memory_bytes")
        let ia = int(c["input_axons"], prefix + ".input_axons")
        let oa = int(c["output_axons"], prefix + ".output_axons")
        let syn = int(c["synapse_memory_bits"], prefix + ".synapse_memory_bits")
        let bps = int(c["bits_per_synapse"], prefix + ".bits_per_synapse", max: 1024)
        let spn = int(c["state_bits_per_neuron"], prefix + ".state_bits_per_neuron", max: 4096)
        let dest = int(c["max_destinations"], prefix + ".max_destinations", optional: true)
        guard let n, let sm, let ia, let oa, let syn, let bps, let spn else { return nil }
        if n * spn > sm * 8 {
            bag.error(.paramRange, object, "\(prefix): \(n) neurons × \(spn) state bits need \(n * spn / 8) bytes but state_memory_bytes is \(sm)",
                      notes: ["a core must be able to hold the state of its neurons"])
            return nil
        }
        return CoreLimits(neurons: n, stateMemoryBytes: sm, inputAxons: ia, outputAxons: oa, synapseMemoryBits: syn,
                          bitsPerSynapse: bps, stateBitsPerNeuron: spn, maxDestinations: dest)
    }

    mutating func read(_ root: JSONValue) -> HardwareProfile? {
        guard root.kind == .object else {
            bag.error(.fieldType, nil, "a hardware profile must be a JSON object, found \(root.kind.article)")
            return nil
        }
        guard root["format"]?.string == "snnc-hardware-profile" else {
            bag.error(.formatUnknown, nil, "field 'format' must be \"snnc-hardware-profile\"")
            return nil
        }
        if root["version"]?.int != 1 { bag.error(.versionUnsupported, nil, "field 'version' must be 1") }
        guard let name = root["name"]?.string, !name.isEmpty else {
            bag.error(.fieldMissing, nil, "field 'name' (a non-empty string) is missing")
            return nil
        }
        object = "profile '\(name)'"
        let description = root["description"]?.string ?? ""
        let support = string(root["asn_support"], "asn_support", as: ASNSupport.self)
        let missing = root["missing_features"]?.elements.compactMap(\.string) ?? []
        if support == ASNSupport.none && missing.isEmpty {
            bag.error(.fieldMissing, object, "asn_support is \"none\" but 'missing_features' does not say which ASN feature the chip lacks")
        }
        let sources = root["sources"]?.elements.compactMap(\.string) ?? []
        if sources.isEmpty { bag.error(.fieldMissing, object, "field 'sources' must list where the numbers come from") }

        // chip
        var chips: Int?, chipMesh: (Int, Int)?, cpc: Int?, app: Int?, coreMesh: (Int, Int)?, hop: Double?, lpc: Int?
        var boards: [Board] = []
        if let ch = section(root, "chip") {
            chips = int(ch["chips"], "chip.chips", max: 1 << 20)
            chipMesh = pair(ch["chip_mesh"], "chip.chip_mesh")
            cpc = int(ch["cores"], "chip.cores", max: 1 << 20)
            app = int(ch["application_cores"], "chip.application_cores", max: 1 << 20)
            coreMesh = pair(ch["core_mesh"], "chip.core_mesh")
            hop = number(ch["inter_chip_hop_cost"], "chip.inter_chip_hop_cost", min: 1)
            lpc = int(ch["layers_per_core"], "chip.layers_per_core", max: 1024, optional: true)
            if let list = ch["boards"] {
                if list.kind != .array { bag.error(.fieldType, object, "chip.boards must be an array of {name, chips, chip_mesh}") }
                for (i, b) in list.elements.enumerated() {
                    let path = "chip.boards[\(i)]"
                    guard b.kind == .object else { bag.error(.fieldType, object, "\(path) must be an object {name, chips, chip_mesh}"); continue }
                    guard let bn = b["name"]?.string, !bn.isEmpty else { bag.error(.fieldMissing, object, "\(path).name must be a non-empty string"); continue }
                    guard let n = int(b["chips"], "\(path).chips", max: 1 << 20), let m = pair(b["chip_mesh"], "\(path).chip_mesh") else { continue }
                    if m.0 * m.1 != n { bag.error(.shapeMismatch, object, "\(path) '\(bn)': chip_mesh \(m.0)×\(m.1) holds \(m.0 * m.1) chips but chips is \(n)"); continue }
                    if boards.contains(where: { $0.chips == n }) { bag.error(.paramRange, object, "\(path) '\(bn)': a board with \(n) chips is already listed"); continue }
                    boards.append(Board(name: bn, chips: n, chipMesh: .init(rows: m.0, cols: m.1)))
                }
            }
            if let chips, let m = chipMesh, m.0 * m.1 != chips {
                bag.error(.shapeMismatch, object, "chip.chip_mesh \(m.0)×\(m.1) holds \(m.0 * m.1) chips but chip.chips is \(chips)")
            }
            if let cpc, let m = coreMesh, m.0 * m.1 < cpc {
                bag.error(.shapeMismatch, object, "chip.core_mesh \(m.0)×\(m.1) has \(m.0 * m.1) places for \(cpc) cores")
            }
            if let cpc, let app, app > cpc {
                bag.error(.paramRange, object, "chip.application_cores is \(app), more than chip.cores (\(cpc))")
            }
        }
        // cores
        var cores: [CoreLimits] = []
        var shared: Bool?
        if let c = root["core"] {
            guard c.kind == .object else {
                bag.error(.fieldType, object, "'core' must be an object")
                return nil
            }
            if let limits = core(c, "core") { cores = [limits] }
            shared = bool(c["shared_weights"], "core.shared_weights")
        } else if let list = root["cores"], list.kind == .array {
            for (i, c) in list.elements.enumerated() {
                if let limits = core(c, "cores[\(i)]") { cores.append(limits) }
            }
            shared = bool(root["shared_weights"], "shared_weights")
            if let app, list.count != app {
                bag.error(.shapeMismatch, object, "'cores' lists \(list.count) cores but chip.application_cores is \(app)")
            }
        } else {
            bag.error(.fieldMissing, object, "give per-core limits as 'core' (all cores alike) or 'cores' (one entry per core)")
        }
        // numerics
        var numerics: Numerics?
        if let n = section(root, "numerics") {
            let wb = int(n["weight_bits"], "numerics.weight_bits", min: 2, max: 32)
            let emin = int(n["weight_exponent_min"], "numerics.weight_exponent_min", min: -64, max: 64)
            let emax = int(n["weight_exponent_max"], "numerics.weight_exponent_max", min: -64, max: 64)
            let scope = n["exponent_scope"]?.string
            if scope != "layer" && scope != "core" {
                bag.error(.fieldValue, object, "field 'numerics.exponent_scope' must be \"layer\" or \"core\"")
            }
            let rnd = string(n["rounding"], "numerics.rounding", as: RoundingMode.self)
            let sb = n["state_bits"]
            let cb = int(sb?["current"], "numerics.state_bits.current", min: 2, max: Self.maxStateBits)
            let ab = int(sb?["activation"], "numerics.state_bits.activation", min: 2, max: Self.maxStateBits)
            let rb = int(sb?["refractory"], "numerics.state_bits.refractory", min: 2, max: Self.maxStateBits)
            let tb = int(sb?["threshold"], "numerics.state_bits.threshold", min: 2, max: Self.maxStateBits)
            let db = int(n["decay_bits"], "numerics.decay_bits", max: Self.maxDecayBits)
            let ov = string(n["overflow"], "numerics.overflow", as: OverflowMode.self)
            let check = n["overflow_check"]?.string
            if check != "error" && check != "warning" {
                bag.error(.fieldValue, object, "field 'numerics.overflow_check' must be \"error\" or \"warning\"")
            }
            if let emin, let emax, emin > emax {
                bag.error(.paramRange, object, "numerics.weight_exponent_min (\(emin)) is above weight_exponent_max (\(emax))")
            }
            if let wb, let emin, let emax, let cb, let ab, let rb, let tb, let db, let rnd, let ov, let scope,
               scope == "layer" || scope == "core", check == "error" || check == "warning", emin <= emax {
                numerics = Numerics(weightBits: wb, weightExponentMin: emin, weightExponentMax: emax, exponentScope: scope, rounding: rnd,
                                    currentBits: cb, activationBits: ab, refractoryBits: rb, thresholdBits: tb, decayBits: db,
                                    overflow: ov, overflowIsError: check == "error")
            }
        }
        // spikes
        var spikes: Spikes?
        if let s = section(root, "spikes") {
            let graded = bool(s["graded"], "spikes.graded")
            let pb = int(s["payload_bits"], "spikes.payload_bits", min: 0, max: Self.maxStateBits)
            let mb = int(s["multiplier_bits"], "spikes.multiplier_bits", min: 0, max: Self.maxStateBits)
            if let graded, let pb, let mb {
                if graded && (pb == 0 || mb == 0) {
                    bag.error(.paramRange, object, "spikes.graded is true but payload_bits is \(pb) and multiplier_bits \(mb); graded spikes need both > 0")
                } else if !graded && pb != 0 {
                    bag.error(.paramRange, object, "spikes.graded is false but payload_bits is \(pb); binary spikes carry no payload")
                } else {
                    spikes = Spikes(graded: graded, payloadBits: pb, multiplierBits: mb)
                }
            }
        }
        // router
        var router: Router?
        if let r = section(root, "router") {
            let scheme = string(r["scheme"], "router.scheme", as: RouterScheme.self)
            let entries = int(r["entries"], "router.entries", optional: scheme != .keyMask)
            let lat = number(r["hop_latency_ns"], "router.hop_latency_ns")
            let link = int(r["link_spikes_per_step"], "router.link_spikes_per_step")
            let pkt = int(r["packet_bits"], "router.packet_bits", max: 4096)
            if let scheme, let lat, let link, let pkt, scheme != .keyMask || entries != nil {
                router = Router(scheme: scheme, entries: entries, hopLatencyNs: lat, linkSpikesPerStep: link, packetBits: pkt)
            }
        }
        // timing and energy
        var clock: Double?, step: Double?, cycles: CycleCosts?
        if let t = section(root, "timing") {
            clock = number(t["clock_hz"], "timing.clock_hz", min: 1)
            step = number(t["timestep_us"], "timing.timestep_us", min: 1e-3)
            if let c = t["cycles"] {
                let a = number(c["axon_event"], "timing.cycles.axon_event"), sy = number(c["synaptic_op"], "timing.cycles.synaptic_op")
                let n = number(c["neuron_update"], "timing.cycles.neuron_update"), so = number(c["spike_out"], "timing.cycles.spike_out")
                let o = number(c["step_overhead"], "timing.cycles.step_overhead")
                if let a, let sy, let n, let so, let o { cycles = CycleCosts(axonEvent: a, synapticOp: sy, neuronUpdate: n, spikeOut: so, stepOverhead: o) }
            }
        }
        var energy: Energy?
        if let e = section(root, "energy") {
            let so = number(e["synaptic_op_pj"], "energy.synaptic_op_pj")
            let nu = number(e["neuron_update_pj"], "energy.neuron_update_pj")
            let sh = number(e["spike_hop_pj"], "energy.spike_hop_pj")
            let pb = number(e["payload_bit_pj"], "energy.payload_bit_pj")
            if let so, let nu, let sh, let pb { energy = Energy(synapticOpPJ: so, neuronUpdatePJ: nu, spikeHopPJ: sh, payloadBitPJ: pb) }
        }
        guard let support, let chips, let chipMesh, let cpc, let app, let coreMesh, let hop, !cores.isEmpty, let shared,
              let numerics, let spikes, let router, let clock, let step, let energy, !bag.hasErrors else { return nil }
        var profile = HardwareProfile(name: name, description: description, file: file, asnSupport: support, missingFeatures: missing,
                                      chips: chips, chipMesh: chipMesh, coresPerChip: cpc, applicationCoresPerChip: app, coreMesh: coreMesh,
                                      interChipHopCost: hop, cores: cores, sharedWeights: shared, numerics: numerics, spikes: spikes,
                                      router: router, clockHz: clock, timestepUs: step, energy: energy, sources: sources)
        profile.layersPerCore = lpc ?? 1
        profile.cycles = cycles
        if let f = root["family"] {
            guard let t = f.string, let family = ChipFamily(rawValue: t) else {
                bag.error(.fieldValue, object, "field 'family' must be one of \(ChipFamily.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
                return nil
            }
            // A family fixes some widths: the profile must say the same numbers.
            if family == .loihi && (numerics.currentBits != LoihiRules.stateBits || numerics.activationBits != LoihiRules.stateBits || numerics.decayBits != LoihiRules.decayShift) {
                bag.error(.paramRange, object, "family \"loihi\" has 24-bit u and v and 12-bit decays; numerics.state_bits.current/activation and decay_bits must be 24, 24 and 12")
                return nil
            }
            profile.family = family
        }
        if let pn = root["programmable_neurons"] {
            guard let b = pn.bool else {
                bag.error(.fieldType, object, "field 'programmable_neurons' must be true or false")
                return nil
            }
            profile.programmableNeurons = b
        }
        // The default board is one of the boards; unlisted, it is the only one.
        if let d = boards.first(where: { $0.chips == chips }) {
            if d.chipMesh != Board.Mesh(rows: chipMesh.0, cols: chipMesh.1) {
                bag.error(.shapeMismatch, object, "chip.boards '\(d.name)' has \(d.chips) chips on a \(d.chipMesh.rows)×\(d.chipMesh.cols) mesh but chip.chip_mesh is \(chipMesh.0)×\(chipMesh.1)")
                return nil
            }
        } else {
            if !boards.isEmpty {
                bag.error(.paramRange, object, "chip.chips is \(chips) but no entry of chip.boards has \(chips) chips (the default board must be listed)")
                return nil
            }
            boards = [.unnamed(chips: chips, rows: chipMesh.0, cols: chipMesh.1)]
        }
        profile.boards = boards.sorted { $0.chips < $1.chips }
        return profile
    }
}

func describe(_ v: JSONValue) -> String { v.shortDescription }

extension HardwareProfile {
    /// Why this chip cannot run ASN networks, as a diagnostic (nil when it can).
    public func asnRefusal(model: String) -> Diagnostic? {
        guard asnSupport == .none else { return nil }
        return Diagnostic(.error, .profileUnsupported, file: model, object: "profile '\(name)'",
                          "this chip cannot run adaptive spiking neurons; it lacks: " + missingFeatures.joined(separator: "; "),
                          notes: ["choose a profile with asn_support \"native\" or \"emulated-core\" (snnc profile --list)"])
    }

    /// Why a network with graded spikes cannot run here (nil when it can).
    public func gradedRefusal(model: String, layer: String) -> Diagnostic? {
        guard !spikes.graded else { return nil }
        return Diagnostic(.error, .profileUnsupported, file: model, object: "node '\(layer)'",
                          "this layer sends graded spikes (payload ϑ(t_s)) but profile '\(name)' has binary spikes only",
                          notes: ["use a profile with graded spikes (loihi2, spinnaker, spinnaker2, generic) or retrain with binary ASNs"])
    }
}
