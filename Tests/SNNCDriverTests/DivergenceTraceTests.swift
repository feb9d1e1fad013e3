import Foundation
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference
import Testing

@Suite struct DivergenceTraceTests {
    static func artefact() -> String {
        let dir = tempPath("div")
        var o = Compile.Options(modelPath: repoRoot + "/Examples/iris/model.json")
        o.profile = "loihi"
        o.output = dir
        #expect(Compile.run(o).status == .success)
        return dir
    }

    /// A check made to fail (a 0.1 % spike tolerance) says where: an image, a step, a layer, a
    /// neuron whose counts differ by more than the tolerance — and a passing check says nothing.
    @Test func failedCheckReportsTheFirstDivergence() throws {
        let dir = Self.artefact()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = Emulate.Options(directory: dir, dataPath: repoRoot + "/Examples/iris/all.csv")
        o.check = true
        o.json = true
        o.progress = false
        o.maxSpikeDeviation = 0.1
        let r = Emulate.run(o)
        #expect(r.status == .badInput)
        let d = try #require(try JSONDocument.parse(Array(r.stdout.utf8)).root["first_divergence"])
        let fixed = try #require(d["fixed_spikes"]?.int), float = try #require(d["float_spikes"]?.int), tol = try #require(d["tolerance"]?.int)
        #expect(abs(fixed - float) > tol && tol == 3)
        #expect(["asn1", "asn2", "asn3"].contains(d["layer"]?.string ?? ""))
        #expect((d["step"]?.int ?? -1) >= 0 && (d["step"]?.int ?? 500) < 500)
        o.maxSpikeDeviation = 5
        let ok = Emulate.run(o)
        #expect(ok.status == .success)
        #expect(try JSONDocument.parse(Array(ok.stdout.utf8)).root["first_divergence"]?.kind == .null)
    }

    /// The trace of core 0: a header, one line per step, every compartment and neuron of the
    /// core, and the spikes of each step equal to the emulator's raster for the core's neurons.
    @Test func traceMatchesTheRaster() throws {
        let dir = Self.artefact()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = tempPath("trace.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        var o = Emulate.Options(directory: dir, dataPath: repoRoot + "/Examples/iris/all.csv")
        o.limit = 2
        o.durationMs = 60
        o.progress = false
        o.tracePath = file
        o.traceCores = [0]
        o.traceSample = 1
        #expect(Emulate.run(o).status == .success)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 61)
        let net = try ArtefactReader.load(dir)
        var eo = EmulationOptions()
        eo.durationMs = 60
        let data = try DataLoader.load(path: repoRoot + "/Examples/iris/all.csv").get()
        let raster = Emulator(net, options: eo).emulate(data.samples[1], recordRaster: true).raster!
        let comps = net.cores[0].blocks.filter { !$0.dendrite }.reduce(0) { $0 + $1.count }
        var traced = 0
        for (t, line) in lines.dropFirst().enumerated() {
            let v = try JSONDocument.parse(Array(line.utf8)).root
            #expect(v["step"]?.int == t && v["core"]?.int == 0)
            #expect(v["compartments"]?.elements.count == comps)
            let spikes = Set((v["spikes"]?.elements ?? []).map { "\($0.elements[0].int ?? -1):\($0.elements[1].int ?? -1)" })
            let want = Set(raster.enumerated().flatMap { li, r in r.filter { $0.0 == t }.map { "\(li):\($0.1)" } })
            #expect(spikes == want, "step \(t)")
            traced += spikes.count
        }
        #expect(traced > 20)
    }
}
