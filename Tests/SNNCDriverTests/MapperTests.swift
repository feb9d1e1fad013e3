import Foundation
import SNNCDriver
import SNNCHardware
import SNNCIR
import SNNCJSON
import SNNCPasses
import Testing

/// A fresh empty temporary directory path (not created).
func tempPath(_ tag: String) -> String {
    let p = NSTemporaryDirectory() + "snnc-test-\(tag)-\(UUID().uuidString)"
    return p
}

/// A CSV of `samples` rows of `features` values uniform in [0, scale) from a fixed seed
/// (SplitMix64), labels cycling over two classes.
func seededCSV(features: Int, samples: Int, scale: Double, seed: UInt64 = 1) -> String {
    var state = seed
    func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
    }
    var csv = (0..<features).map { "x\($0)" }.joined(separator: ",") + ",label\n"
    for n in 0..<samples { csv += (0..<features).map { _ in String(format: "%.4f", next() * scale) }.joined(separator: ",") + ",\(n % 2)\n" }
    return csv
}

/// `snnc emulate DIR --data D --check --json` (durationMs steps, the first `limit` samples):
/// the report, and per layer [float spikes, fixed spikes] by name (expecting exit 0).
func emulateCheck(_ dir: String, data: String, durationMs: Int, limit: Int? = nil) throws -> ([String: Any], [String: [Int]]) {
    var o = Emulate.Options(directory: dir, dataPath: data)
    o.check = true
    o.json = true
    o.limit = limit
    o.durationMs = durationMs
    o.progress = false
    let r = Emulate.run(o)
    #expect(r.status == .success, "\(r.stderr)")
    let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    var spikes: [String: [Int]] = [:]
    for l in obj["layers"] as? [[String: Any]] ?? [] { spikes[l["layer"] as! String] = [l["float_spikes"] as! Int, l["fixed_spikes"] as! Int] }
    return (obj, spikes)
}

/// Compiles `model` for `profile` into a fresh temporary artefact directory (expecting success).
func compiledArtefact(_ model: String, _ profile: String, tag: String) -> String {
    let dir = tempPath(tag)
    var o = Compile.Options(modelPath: model)
    o.profile = profile
    o.output = dir
    let r = Compile.run(o)
    #expect(r.status == .success, "\(r.stderr)")
    return dir
}

func readFiles(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
        out[name] = FileManager.default.contents(atPath: dir + "/" + name)
    }
    return out
}

@Suite struct MapperTests {
    static let handwritten = repoRoot + "/Examples/handwritten/model.json"
    static let tiny = repoRoot + "/Tests/SNNCDriverTests/Profiles/tiny-mesh.json"
    static let tinyFanIn = repoRoot + "/Tests/SNNCDriverTests/Profiles/tiny-mesh-fan-in.json"

    func compile(_ model: String, _ profile: String, to dir: String) -> CommandResult {
        var o = Compile.Options(modelPath: model)
        o.profile = profile
        o.output = dir
        return Compile.run(o)
    }

    /// Runs the whole pipeline in-process on a (possibly edited) profile.
    func unit(_ model: String, _ edit: (inout HardwareProfile) -> Void, base: String = "generic") -> Result<CompileUnit, DiagnosticsError> {
        let m = ModelLoader.load(path: model).model!
        var p = try! ProfileLoader.load(path: repoRoot + "/HardwareProfiles/\(base).json").get()
        edit(&p)
        var u = CompileUnit(model: m, profile: p)
        do {
            _ = try Pipeline.run(&u, verify: true, clock: { 0 }, rss: { 0 })
            return .success(u)
        } catch {
            return .failure(error)
        }
    }

    func ids(_ r: Result<CompileUnit, DiagnosticsError>) -> [String] {
        if case .failure(let e) = r { return e.diagnostics.map(\.id.rawValue) }
        return []
    }

    /// The paper's MNIST net on SpiNNaker: fits, the checker passes, cores within 1.2× of the
    /// lower bound, placement at most 0.85× naive row-major.
    @Test func mnistOnSpinnakerMeetsTheTargets() throws {
        let dir = tempPath("mnist")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = compile(repoRoot + "/Examples/mnist/model.json", "spinnaker", to: dir)
        #expect(r.status == .success, "\(r.stderr)")
        let report = try #require(FileManager.default.contents(atPath: dir + "/report.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
        let totals = try #require(json["totals"] as? [String: Any])
        let cores = try #require(totals["cores"] as? Int), bound = try #require(totals["lower_bound"] as? Int)
        #expect(Double(cores) <= 1.2 * Double(bound))
        #expect(try #require(totals["placement_over_naive"] as? Double) <= 0.85)
        #expect(try #require(totals["checked_routes"] as? Int) > 800_000)
    }

    /// MNIST's dense layer takes 6,272 inputs: Loihi's 4,096 input axons and binary spikes
    /// cannot hold it, and compile says so; Loihi 2 (graded, 8,192) fits.
    @Test func mnistFanInOnLoihiIsRefusedWithTheNumbers() {
        let dir = tempPath("mnist-loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = compile(repoRoot + "/Examples/mnist/model.json", "loihi", to: dir)
        #expect(r.status == .badInput)
        #expect(r.stderr.contains("node 'asn5': error[core-fan-in]: needs 6272 input axons for one neuron, profile 'loihi' allows 4096"))
        #expect(!FileManager.default.fileExists(atPath: dir), "a failed compile writes nothing")
    }

    /// One diagnostic per limit: each names the layer, the resource, the need and the limit.
    @Test func eachResourceMisfitHasItsDiagnostic() {
        let hw = Self.handwritten
        // neurons: one pooled neuron needs its 2×2 compartments.
        #expect(ids(unit(hw) { $0.cores[0].neurons = 3 }) == ["core-neurons"])
        // state memory: 4 compartments × 160 bits do not fit 64 bytes.
        #expect(ids(unit(hw) { $0.cores[0].stateMemoryBytes = 64 }) == ["core-state-memory"])
        // fan-in on a binary profile: the dense layer reads 18 inputs.
        let f = unit(hw) { $0.cores[0].inputAxons = 17; $0.spikes.graded = false }
        #expect(ids(f) == ["core-fan-in"])
        if case .failure(let e) = f { #expect(e.diagnostics[0].description.contains("needs 18 input axons for one neuron, profile 'generic' allows 17")) }
        // synapse memory: 18 synapses × 24 bits for one readout neuron.
        #expect(ids(unit(hw) { $0.cores[0].synapseMemoryBits = 200 }).contains("core-synapse-memory"))
        // output axons: each asn0 neuron reaches at least one core.
        #expect(ids(unit(hw) { $0.cores[0].outputAxons = 0 }).allSatisfy { $0 == "core-output-axons" })
        #expect(!ids(unit(hw) { $0.cores[0].outputAxons = 0 }).isEmpty)
        // too many cores for the chip.
        #expect(ids(unit(hw) { $0.cores[0].neurons = 8; $0.layersPerCore = 1; $0.chips = 1; $0.chipMesh = (1, 1); $0.applicationCoresPerChip = 2; $0.coresPerChip = 2; $0.coreMesh = (1, 2) }) == ["chip-cores"])
        // router entries.
        #expect(ids(unit(repoRoot + "/Examples/mnist/model.json", { $0.router.entries = 8 }, base: "spinnaker")).contains("router-entries"))
    }

    /// Every block fits every limit, and the blocks of a layer hold each neuron exactly once.
    @Test func blocksFitAndCoverEachNeuronOnce() throws {
        let u = try unit(repoRoot + "/Examples/mnist/model.json", { _ in }, base: "spinnaker").get()
        let part = try #require(u.partition), graph = try #require(u.graph)
        for core in part.cores {
            let used = core.reduce(CoreResources()) { $0 + part.blocks[$1].resources }
            #expect(used.fits(part.capacity))
        }
        for (li, l) in graph.layers.enumerated() {
            var seen = [Int](repeating: 0, count: l.neurons)
            let c = l.shape.last!, w = l.shape.count == 3 ? l.shape[1] : 1
            for b in part.blocks where b.layer == li && b.role == .soma {
                for y in b.rows { for x in b.cols { for ch in b.channels { seen[(y * w + x) * c + ch] += 1 } } }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "layer \(l.name)")
        }
    }

    /// The checker is not a formality: one wrong table entry or one wrong router entry fails it.
    @Test func checkerCatchesABrokenTable() throws {
        let u = try unit(Self.handwritten, { _ in }, base: "spinnaker").get()
        let ok = CheckRoutes.check(graph: u.graph!, part: u.partition!, place: u.placement!, routing: u.routing!, profile: u.profile)
        #expect(ok.isEmpty)
        var r = u.routing!
        let c = r.tableCore.firstIndex { !$0.isEmpty }!
        r.tableAxon[c][0] += 1
        #expect(!CheckRoutes.check(graph: u.graph!, part: u.partition!, place: u.placement!, routing: r, profile: u.profile).isEmpty)
        r = u.routing!
        r.routers[0].entries[0].route.cores = []
        #expect(!CheckRoutes.check(graph: u.graph!, part: u.partition!, place: u.placement!, routing: r, profile: u.profile).isEmpty)
    }

    /// Dendrite blocks: the dense layer's fan-in (18) exceeds the 16 input axons of a graded
    /// profile, so its input is split; the checker proves the partial currents reach the soma.
    @Test func dendriteBlocksOnAGradedProfile() {
        let dir = tempPath("dendrite")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = compile(Self.handwritten, Self.tinyFanIn, to: dir)
        #expect(r.status == .success, "\(r.stderr)")
        #expect(r.stdout.contains("3 (2 dendrite groups)"))
    }

    /// The artefact and report of a small network on a small key/mask mesh, pinned by golden
    /// files (SNNC_RECORD_GOLDEN=1 re-records); two compiles give byte-identical directories;
    /// `snnc report` regenerates the same report.md.
    @Test func artefactGoldenAndByteIdentical() throws {
        let a = tempPath("a"), b = tempPath("b")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        #expect(compile(Self.handwritten, Self.tiny, to: a).status == .success)
        #expect(compile(Self.handwritten, Self.tiny, to: b).status == .success)
        let fa = readFiles(a), fb = readFiles(b)
        #expect(fa.count == 13 && fa == fb)
        for name in ["report.md", "routing.txt", "layers.json", "cores.json", "manifest.json"] {
            let text = String(decoding: fa[name] ?? Data(), as: UTF8.self)
            expectGolden(text, "artefact-tiny-mesh/" + name)
        }
        let before = fa["report.md"]
        try FileManager.default.removeItem(atPath: a + "/report.md")
        let r = Report.run(directory: a, format: "md")
        #expect(r.status == .success)
        #expect(FileManager.default.contents(atPath: a + "/report.md") == before)
        #expect(Report.run(directory: a, format: "pdf").status == .usage)
        #expect(Report.run(directory: "/nonexistent", format: "md").status == .badInput)
    }

    /// Measured rates (a `snnc simulate --json` result) weight the placement; a bad file is an error.
    /// Boards: the 784 → 3584 → 3584 → 10 MLP needs more than two Loihi chips. On the default
    /// one-chip board it is refused naming the board that holds it; `--chips auto` and
    /// `--chips 4` both map it on Wolf Mountain (the same artefact), the report and the SVG name
    /// the board and outline its chips, cores sit on three or more chips, and the fixed-point
    /// emulator's check passes on MNIST images. `--chips 3` is no Loihi board.
    @Test func aNetNeedingThreeLoihiChipsMapsOnABoard() throws {
        let src = tempPath("mlp3584")
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: src) }
        try SyntheticModels.make("mlp-mnist-3584", placement: .safetensors(fileName: "model.safetensors"))!.write(directory: src)
        func compile(chips: Int?, auto: Bool, to dir: String) -> CommandResult {
            var o = Compile.Options(modelPath: src + "/model.json")
            o.profile = "loihi"
            o.output = dir
            o.chips = chips
            o.chipsAuto = auto
            return Compile.run(o)
        }
        let one = compile(chips: nil, auto: false, to: src + "/one")
        #expect(one.status == .badInput)
        #expect(one.stderr.contains("error[chip-cores]") && one.stderr.contains("board 'Wolf Mountain' (4 chips, `--chips 4`) holds it"), "\(one.stderr)")
        let three = compile(chips: 3, auto: false, to: src + "/three")
        #expect(three.status == .badInput && three.stderr.contains("error[board-unknown]"), "\(three.stderr)")
        let auto = compile(chips: nil, auto: true, to: src + "/auto")
        #expect(auto.status == .success, "\(auto.stderr)")
        let four = compile(chips: 4, auto: false, to: src + "/four")
        #expect(four.status == .success, "\(four.stderr)")
        for f in ["cores.json", "cores.bin", "axon-tables.bin", "routing.json"] {
            #expect(FileManager.default.contents(atPath: src + "/auto/" + f) == FileManager.default.contents(atPath: src + "/four/" + f), "\(f) differs between --chips auto and --chips 4")
        }
        let report = try String(contentsOfFile: src + "/auto/report.md", encoding: .utf8)
        #expect(report.contains("| board | Wolf Mountain (4 chips)"))
        let svg = try String(contentsOfFile: src + "/auto/report.svg", encoding: .utf8)
        #expect(svg.contains("Wolf Mountain"), "the SVG names the board")
        let doc = try JSONDocument.parse(Array(try #require(FileManager.default.contents(atPath: src + "/auto/report.json"))))
        let rows = doc.root["cores"]?.elements ?? []
        let chipsUsed = Set(rows.compactMap { $0["chip"]?.int })
        let cores = rows.count
        #expect(cores > 256 && cores <= 384 && chipsUsed.count >= 3, "\(cores) cores on chips \(chipsUsed.sorted())")
        var e = Emulate.Options(directory: src + "/auto", dataPath: repoRoot + "/Examples/mnist/test-data.json")
        e.limit = 3
        e.check = true
        e.progress = false
        let run = Emulate.run(e)
        #expect(run.status == .success && run.stdout.contains("check passed"), "\(run.stdout)\(run.stderr)")
    }

    @Test func ratesFile() throws {
        let dir = tempPath("rates"), rates = tempPath("rates") + ".json"
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: rates) }
        try #"{"spikes_per_layer": [{"layer": "asn0", "rate_hz": 120}, {"layer": "asn1", "rate_hz": 10}]}"#.write(toFile: rates, atomically: true, encoding: .utf8)
        var o = Compile.Options(modelPath: Self.handwritten)
        o.profile = Self.tiny
        o.output = dir
        o.rates = rates
        let r = Compile.run(o)
        #expect(r.status == .success && r.stdout.contains("rates: measured"))
        try "{}".write(toFile: rates, atomically: true, encoding: .utf8)
        let bad = Compile.run(o)
        #expect(bad.status == .badInput && bad.stderr.contains("error[rates-file]"))
    }
}
