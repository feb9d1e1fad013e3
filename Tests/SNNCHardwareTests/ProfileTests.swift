import Foundation
import SNNCHardware
import SNNCIR
import Testing

let repoRoot: String = directoryOf(directoryOf(directoryOf(#filePath)))

@Suite struct ShippedProfileTests {
    static let names = ["generic", "loihi", "loihi2", "spinnaker", "spinnaker2", "dynapcnn", "truenorth"]

    @Test(arguments: names)
    func loadsAndValidates(name: String) throws {
        let path = try #require(ProfileLoader.resolve(name, searchPath: [repoRoot + "/HardwareProfiles"]))
        let p = try ProfileLoader.load(path: path).get()
        #expect(p.name == name)
        #expect(!p.sources.isEmpty)
        #expect(p.totalCores >= 1)
    }

    @Test func loihiHasNengoLoihisLimits() throws {
        let p = try ProfileLoader.load(path: repoRoot + "/HardwareProfiles/loihi.json").get()
        let c = p.limits(core: 0)
        #expect((c.neurons, c.inputAxons, c.outputAxons, c.synapseMemoryBits) == (1024, 4096, 4096, 16384 * 64))
        #expect(p.coresPerChip == 128 && p.numerics.weightBits == 8 && p.numerics.currentBits == 24 && p.numerics.decayBits == 12)
        #expect(!p.spikes.graded)
        #expect(p.gradedRefusal(model: "m.json", layer: "relu1")?.id == .profileUnsupported)
    }

    @Test func dynapcnnCoresAreHeterogeneous() throws {
        let p = try ProfileLoader.load(path: repoRoot + "/HardwareProfiles/dynapcnn.json").get()
        #expect(p.cores.map { $0.synapseMemoryBits / 8 / 1024 } == [16, 16, 16, 32, 32, 64, 64, 16, 16])
        #expect(p.cores.map { $0.neurons / 1024 } == [64, 64, 64, 32, 32, 16, 16, 16, 16])
        #expect(p.cores.allSatisfy { $0.maxDestinations == 2 })
    }

    @Test func truenorthIsRefusedNamingTheMissingFeature() throws {
        let p = try ProfileLoader.load(path: repoRoot + "/HardwareProfiles/truenorth.json").get()
        let d = try #require(p.asnRefusal(model: "model.json"))
        #expect(d.id == .profileUnsupported)
        #expect(d.description.contains("multiplicative threshold adaptation"))
        for n in Self.names where n != "truenorth" {
            #expect(try ProfileLoader.load(path: repoRoot + "/HardwareProfiles/\(n).json").get().asnRefusal(model: "m") == nil)
        }
    }

    @Test func unknownProfileNamesDoNotResolve() {
        #expect(ProfileLoader.resolve("loihi3", searchPath: [repoRoot + "/HardwareProfiles"]) == nil)
        #expect(ProfileLoader.resolve("x/y.json", searchPath: []) == "x/y.json")
    }
}

@Suite struct BadProfileCorpusTests {
    static let dir = repoRoot + "/Tests/SNNCHardwareTests/Corpus"
    static let cases: [(String, String)] = {
        let text = try! String(contentsOfFile: dir + "/EXPECTED.tsv", encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            let f = $0.split(separator: "\t")
            return (String(f[0]), String(f[1]))
        }
    }()

    @Test func atLeastFifteenAndAllListed() throws {
        #expect(Self.cases.count >= 15)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(Self.cases.map(\.0)))
    }

    /// Each bad profile gives exactly one diagnostic, with its expected id.
    @Test(arguments: cases.map(\.0))
    func failsWithOneDiagnostic(file: String) {
        let expected = Self.cases.first { $0.0 == file }!.1
        guard case .failure(let e) = ProfileLoader.load(path: Self.dir + "/" + file, displayName: file) else {
            Issue.record("\(file) loaded")
            return
        }
        #expect(e.diagnostics.map(\.id.rawValue) == [expected], "\(file): \(e.diagnostics.map(\.description))")
    }
}
