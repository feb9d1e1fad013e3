import Foundation
import SNNCHardware
import SNNCIR
import Testing

let repoRoot: String = directoryOf(directoryOf(directoryOf(#filePath)))

@Suite struct ShippedProfileTests {
    static let names = ["generic", "loihi", "loihi2", "spinnaker", "spinnaker2", "dynapcnn", "truenorth"]

    /// The built-in profiles load by name with no directory to search, and are byte for byte the
    /// files in HardwareProfiles/ (the manifest hashes these bytes).
    @Test(arguments: names)
    func loadsAndValidates(name: String) throws {
        let p = try ProfileCatalog.load(name, directories: []).get()
        #expect(p.name == name)
        #expect(p.file == "HardwareProfiles/\(name).json (built in)")
        #expect(p.bytes == Array(try Data(contentsOf: URL(fileURLWithPath: repoRoot + "/HardwareProfiles/\(name).json"))))
        #expect(!p.sources.isEmpty)
        #expect(p.totalCores >= 1)
    }

    /// Every file in HardwareProfiles/ is built in (adding one means adding it to the list).
    @Test func everyShippedFileIsBuiltIn() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/HardwareProfiles").filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(ProfileCatalog.builtIn.map(\.name)))
        #expect(Set(Self.names) == Set(ProfileCatalog.builtIn.map(\.name)))
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

    @Test func unknownNamesAreRefusedWithTheNearestNames() throws {
        guard case .failure(let e) = ProfileCatalog.load("loihii", directories: []) else {
            Issue.record("loihii loaded")
            return
        }
        #expect(e.diagnostics.map(\.id) == [.profileNotFound])
        #expect(e.diagnostics[0].description.contains("did you mean 'loihi' or 'loihi2'?"))
        #expect(ProfileCatalog.suggestions(for: "spinaker", among: Self.names) == ["spinnaker", "spinnaker2"])
        #expect(ProfileCatalog.suggestions(for: "Loihi", among: Self.names) == ["loihi", "loihi2"])
        #expect(ProfileCatalog.suggestions(for: "dynap", among: Self.names) == ["dynapcnn"])
        #expect(ProfileCatalog.suggestions(for: "akida", among: Self.names) == [])
        // A path that does not exist is a file error, not a name lookup.
        guard case .failure(let f) = ProfileCatalog.load("x/y.json", directories: []) else {
            Issue.record("x/y.json loaded")
            return
        }
        #expect(f.diagnostics.map(\.id) == [.fileUnreadable])
    }

    /// A directory of SNNC_PROFILE_PATH adds profiles and shadows built-in ones of the same name;
    /// a profile given by path needs no directory.
    @Test func userDirectoriesComeFirst() throws {
        let dir = NSTemporaryDirectory() + "snnc-profiles-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generic = try String(contentsOfFile: repoRoot + "/HardwareProfiles/generic.json", encoding: .utf8)
        try generic.replacingOccurrences(of: "\"name\": \"generic\"", with: "\"name\": \"mychip\"")
            .write(toFile: dir + "/mychip.json", atomically: true, encoding: .utf8)
        try generic.write(toFile: dir + "/loihi.json", atomically: true, encoding: .utf8)
        #expect(ProfileCatalog.directories(environment: ["SNNC_PROFILE_PATH": dir + "::/nonexistent"]) == [dir, "/nonexistent"])
        let entries = ProfileCatalog.entries(directories: [dir, "/nonexistent"])
        #expect(entries.map(\.name) == ["loihi", "mychip", "dynapcnn", "generic", "loihi2", "spinnaker", "spinnaker2", "truenorth"])
        #expect(entries[0].path == dir + "/loihi.json" && entries[2].origin == "built in")
        #expect(try ProfileCatalog.load("mychip", directories: [dir]).get().name == "mychip")
        #expect(try ProfileCatalog.load("loihi", directories: [dir]).get().file == dir + "/loihi.json")
        #expect(try ProfileCatalog.load(dir + "/mychip.json", directories: []).get().name == "mychip")
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
