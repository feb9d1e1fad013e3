import Foundation
import SNNCArtefact
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference
import Testing

@Suite struct EmulatorTests {
    static let three = repoRoot + "/Tests/SNNCDriverTests/Models/three-neurons.json"

    func compile(_ model: String, _ profile: String) -> String { compiledArtefact(model, profile, tag: "emu") }

    /// The three-neuron network, traced by an independent integer model written here from
    /// Docs/fixed-point.md (plain Double arithmetic on exact integers, round half to even), must
    /// match the emulator's spikes step for step.
    @Test func threeNeuronTraceMatchesStepForStep() throws {
        let dir = compile(Self.three, "generic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try ArtefactReader.load(dir)
        var eo = EmulationOptions()
        eo.durationMs = 300
        let emu = Emulator(net, options: eo)
        let x = 0.8
        let got = emu.emulate([x], recordRaster: true).raster!

        // The independent trace.
        let a = net.layers[0], b = net.layers[1]
        #expect(a.name == "a" && b.name == "b" && a.neurons == 1 && b.neurons == 2)
        func rnd(_ v: Double) -> Double { v.rounded(.toNearestOrEven) }
        func p2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
        let K = p2(a.constants.k)
        struct St { var I = 0.0, S = 0.0, sh = 0.0, td = 0.0, th: Double }
        var sa = St(th: Double(a.constants.theta0))
        var sb = [St(th: Double(b.constants.theta0)), St(th: Double(b.constants.theta0))]
        // Weights of w1 in b's state LSB, m · 2^(e − s), and b's biases — from weights.bin and
        // layers.json, not from the core images the emulator runs.
        let layersJSON = try JSONDocument.parse(try readWholeFile(dir + "/layers.json", limit: 1 << 20))
        let wbin = try readWholeFile(dir + "/weights.bin", limit: 1 << 20)
        let wi = try #require(layersJSON.root["layers"]?.elements[1]["inputs"]?.elements[0]["weights_bin"])
        let off = try #require(wi["offset"]?.int), exponent = try #require(wi["exponent"]?.int), bo = try #require(wi["bias_offset"]?.int)
        let wb = [0, 1].map { rnd(Double(ArtefactFormat.i32(wbin, off + 4 * $0)) * p2(exponent - b.stateExponent)) }
        let bBias = [0, 1].map { Double(ArtefactFormat.i32(wbin, bo + 4 * $0)) }
        let hostI = rnd(x / p2(a.stateExponent))
        var expected: [[(Int, Int)]] = [[], [], []]
        var pending = false  // a spiked last step (one hop delay)
        func step(_ s: inout St, input: Double, host: Double?, bias: Double, _ c: FixedConstants) -> Bool {
            s.I = host ?? (rnd(Double(c.alphaBeta) * s.I / K) + input)
            s.S = rnd(((K - Double(c.alphaPhi)) * s.I + Double(c.alphaPhi) * s.S) / K)
            s.sh = rnd(Double(c.alphaEta) * s.sh / K)
            var fired = false
            if 2 * (bias + s.S - s.sh) > s.th {
                fired = true
                s.sh += s.th
                s.td += rnd(Double(c.mf) * s.th / K)
            }
            s.td = rnd(Double(c.alphaGamma) * s.td / K)
            s.th = Double(c.theta0) + s.td
            return fired
        }
        for t in 0..<300 {
            let inputs = pending ? wb : [0, 0]
            for j in 0..<2 where step(&sb[j], input: inputs[j], host: nil, bias: bBias[j], b.constants) { expected[2].append((t, j)) }
            pending = step(&sa, input: 0, host: hostI, bias: 0, a.constants)
            if pending { expected[0].append((t, 0)) }
        }
        let gotA = got[0].map { "\($0.0):\($0.1)" }, wantA = expected[0].map { "\($0.0):\($0.1)" }
        let gotB = got[1].map { "\($0.0):\($0.1)" }, wantB = expected[2].map { "\($0.0):\($0.1)" }
        #expect(gotA == wantA)
        #expect(gotB == wantB)
        #expect(wantA.count > 20 && wantB.count > 10, "the trace must exercise spikes")
        // By hand, the first steps: a's host current is round(0.8 · 2^16) = 52429 LSBs (ϑ0 = 0.1
        // → 6554); S after one step = round((65536 − 43930)·52429 / 65536) = 17285, and
        // 2·17285 > 6554, so a spikes at step 0; b sees it at step 1.
        #expect(a.stateExponent == -16 && a.constants.theta0 == 6554 && hostI == 52429)
        #expect(wantA.first == "0:0")
    }

    /// Bit-exact for any thread count.
    @Test func threadCountDoesNotChangeResults() throws {
        let dir = compile(repoRoot + "/Examples/iris/model.json", "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try ArtefactReader.load(dir)
        let data = try DataLoaderShim.iris()
        var o1 = EmulationOptions(), o2 = EmulationOptions()
        o1.threads = 1; o2.threads = 2
        o1.durationMs = 200; o2.durationMs = 200
        let r1 = Emulator(net, options: o1).run(images: data), r2 = Emulator(net, options: o2).run(images: data)
        #expect(r1.map(\.classes) == r2.map(\.classes) && r1.map(\.spikesPerLayer) == r2.map(\.spikesPerLayer))
    }

    /// One image's cores stepped by 1, 2 or 3 threads within each step (a long stream): the same
    /// classes, spike raster, synaptic events, overflows and cycle model — on MNIST over the 9
    /// chips of `spinnaker`, so same-chip packets, the spike exchange and the merge all run.
    @Test func coreThreadsDoNotChangeResults() throws {
        let dir = compile(repoRoot + "/Examples/mnist/model.json", "spinnaker")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try ArtefactReader.load(dir)
        #expect(net.chips.count > 1)
        let image = try DataLoader.load(path: repoRoot + "/Examples/mnist/test-data.json").get().samples[0]
        var o = EmulationOptions()
        o.durationMs = 40
        let runs = [1, 2, 3].map { Emulator(net, options: o).emulate(frames: [image], stepsPerFrame: 40, recordRaster: true, coreThreads: $0) }
        let base = runs[0]
        #expect(base.spikesPerLayer.reduce(0, +) > 1000 && base.synapticEvents > 0)
        for r in runs.dropFirst() {
            #expect(r.classes == base.classes && r.spikesPerLayer == base.spikesPerLayer && r.synapticEvents == base.synapticEvents)
            #expect(r.overflowsPerLayer == base.overflowsPerLayer && r.coreCycles == base.coreCycles && r.packets == base.packets && r.packetHops == base.packetHops)
            #expect(r.raster.map { $0.map { $0.map { "\($0.0):\($0.1)" } } } == base.raster.map { $0.map { $0.map { "\($0.0):\($0.1)" } } })
        }
    }

    /// The cycle model's per-layer work adds up to the per-core cycles less each core's fixed
    /// overhead per step: the same events, counted by layer instead of by core.
    @Test func perLayerCyclesAddUpToTheCores() throws {
        let dir = compile(repoRoot + "/Examples/iris/model.json", "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let net = try ArtefactReader.load(dir)
        var o = EmulationOptions()
        o.durationMs = 120
        let r = Emulator(net, options: o).emulate(try DataLoaderShim.iris()[3])
        let overhead = net.timing.stepOverhead * Double(net.cores.count * 120)
        let cores = r.coreCycles.reduce(0, +), layers = r.layerCycles.reduce(0, +)
        #expect(r.layerCycles.count == net.layers.count && r.layerCycles.allSatisfy { $0 > 0 })
        #expect(abs(cores - overhead - layers) <= 1e-9 * cores, "cores \(cores), overhead \(overhead), layers \(layers)")
    }

    /// `snnc emulate --check` passes on IRIS (all 150) on loihi; redirecting one routing entry
    /// of the input layer makes it fail; JUnit XML is written.
    @Test func checkPassesAndABrokenRouteFailsIt() throws {
        let dir = compile(repoRoot + "/Examples/iris/model.json", "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let junit = dir + ".junit.xml"
        defer { try? FileManager.default.removeItem(atPath: junit) }
        var o = Emulate.Options(directory: dir, dataPath: repoRoot + "/Examples/iris/all.csv")
        o.check = true
        o.junitPath = junit
        o.progress = false
        let ok = Emulate.run(o)
        #expect(ok.status == .success, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("check passed"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("failures=\"0\"") && xml.contains("<testcase classname=\"snnc.check\" name=\"accuracy\">"))
        // Break one entry: input neuron 0's first destination axon now points at neuron 1's.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/axon-tables.bin")))
        func u32(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24 }
        let outputs = u32(8), entries = u32(12)
        #expect(outputs > 1 && entries > 1)
        let base = 16 + 4 * (outputs + 1)
        let firstOfNeuron1 = u32(16 + 4)
        let axonOfNeuron1 = u32(base + 8 * firstOfNeuron1 + 4)
        for k in 0..<4 { bytes[base + 4 + k] = UInt8((axonOfNeuron1 >> (8 * k)) & 0xFF) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/axon-tables.bin"))
        // Sealed again, as a compiler with this bug would have written it: the check must catch it.
        try reseal(dir, "axon-tables.bin")
        let broken = Emulate.run(o)
        #expect(broken.status == .badInput)
        #expect(broken.stderr.contains("error[check-failed]"))
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<failure"))
    }
}

enum DataLoaderShim {
    static func iris() throws -> [[Double]] {
        let text = try String(contentsOfFile: repoRoot + "/Examples/iris/all.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().prefix(30).map { line in line.split(separator: ",").dropLast().compactMap { Double($0) } }
    }
}

/// Damaged artefacts — a digit changed in a JSON file, a byte changed in a binary — are refused
/// or run; never a crash.
@Suite struct EmulatorRobustnessTests {
    @Test func damagedArtefactsNeverCrash() throws {
        let dir = tempPath("fuzz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Compile.Options(modelPath: repoRoot + "/Examples/handwritten/model.json")
        o.profile = repoRoot + "/Tests/SNNCDriverTests/Profiles/tiny-mesh-fan-in.json"
        o.output = dir
        #expect(Compile.run(o).status == .success)
        // weights.bin is the weights per node for other tools; the emulator runs the core images
        // (cores.bin) alone, so damage to it must change nothing behind the manifest's back.
        let names = ["cores.json", "layers.json", "axon-tables.bin", "cores.bin", "weights.bin"]
        let unread = names.firstIndex(of: "weights.bin")!
        let originals = try names.map { try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)) }
        var eo = EmulationOptions()
        eo.durationMs = 20
        let input = [Double](repeating: 0.5, count: 36)
        let undamaged = Emulator(try ArtefactReader.load(dir), options: eo).emulate(input)
        var rng = SeededRandom(seed: 42)
        var changed = 0, unchanged = 0
        var refusedBehindManifest = [Int](repeating: 0, count: names.count), ranBehindManifest = 0
        for trial in 0..<240 {
            let f = trial % names.count
            var bytes = [UInt8](originals[f])
            if names[f].hasSuffix(".json") {
                let digits = bytes.indices.filter { bytes[$0] >= 48 && bytes[$0] <= 57 }
                let k = digits[Int(rng.next() % UInt64(digits.count))]
                bytes[k] = UInt8(48 + Int(rng.next() % 10))
                if rng.next() % 4 == 0 { bytes.insert(UInt8(48 + Int(rng.next() % 10)), at: k) }
                if rng.next() % 8 == 0 { bytes.insert(45, at: k) }  // a minus sign
            } else {
                let k = Int(rng.next() % UInt64(bytes.count))
                bytes[k] = UInt8(truncatingIfNeeded: rng.next())
            }
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + names[f]))
            defer { try? originals[f].write(to: URL(fileURLWithPath: dir + "/" + names[f])) }
            if bytes == [UInt8](originals[f]) {
                // The same bytes (a digit replaced by itself): it loads and runs exactly as before.
                unchanged += 1
                let again = Emulator(try ArtefactReader.load(dir), options: eo).emulate(input)
                #expect(again.classes == undamaged.classes && again.spikesPerLayer == undamaged.spikesPerLayer
                        && again.synapticEvents == undamaged.synapticEvents, "trial \(trial)")
                continue
            }
            changed += 1
            // What a user runs: the manifest refuses every changed file, naming it.
            do {
                _ = try ArtefactReader.load(dir)
                Issue.record("trial \(trial): a changed \(names[f]) passed the manifest")
            } catch {
                #expect(error.file.hasSuffix("/" + names[f]) && (error.message.contains("SHA-256") || error.message.contains("the manifest says")),
                        "trial \(trial): \(error)")
            }
            // Behind the manifest's back: the decoders themselves refuse (with an artefact error
            // naming a file of this artefact) or the emulator runs to the end; never a crash.
            do {
                let net = try ArtefactReader.load(dir, verifyManifest: false)
                let r = Emulator(net, options: eo).emulate(input)
                #expect(r.classes.count == eo.durationMs, "trial \(trial)")
                if f == unread {
                    #expect(r.classes == undamaged.classes && r.spikesPerLayer == undamaged.spikesPerLayer, "trial \(trial): weights.bin was read")
                }
                ranBehindManifest += 1
            } catch {
                #expect(f != unread, "trial \(trial): weights.bin was read: \(error)")
                #expect(error.file.hasPrefix(dir) && !error.message.isEmpty, "trial \(trial): \(error)")
                refusedBehindManifest[f] += 1
            }
        }
        #expect(changed + unchanged == 240 && changed >= 200)
        // Every decoder is exercised: damage to each file it reads is refused at least once.
        #expect(refusedBehindManifest.indices.allSatisfy { $0 == unread || refusedBehindManifest[$0] > 0 },
                "refusals per file \(refusedBehindManifest), ran \(ranBehindManifest)")
    }
}

/// Rewrites an artefact's manifest after a deliberate edit of `file`: its size and SHA-256, then
/// the manifest's own SHA-256 (over the bytes with the hash as 64 zeros).
func reseal(_ dir: String, _ file: String) throws {
    let url = URL(fileURLWithPath: dir + "/manifest.json")
    var m = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let content = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
    m["files"] = (m["files"] as? [[String: Any]] ?? []).map { f in
        guard f["name"] as? String == file else { return f }
        return ["name": file, "bytes": content.count, "sha256": ArtefactFormat.sha256(content)]
    }
    let zeros = String(repeating: "0", count: 64)
    m["manifest_sha256"] = zeros
    var text = String(decoding: try JSONSerialization.data(withJSONObject: m, options: [.sortedKeys]), as: UTF8.self)
    let hash = ArtefactFormat.sha256(Array(text.utf8))
    text = text.replacingOccurrences(of: zeros, with: hash)
    try Data(text.utf8).write(to: url)
}
