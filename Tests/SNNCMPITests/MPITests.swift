// snnc-mpi under mpirun (Open MPI, openmpi-bin) against single-process runs of the same
// artefact: by chips (MNIST over 5 chips of a test profile with 8-core chips) and by images
// (IRIS, MNIST), on 2 and 3 ranks; a failing rank and mismatched artefacts.
import Foundation
import SNNCDriver
import Testing

let repoRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The snnc-mpi built beside this test binary (.build/<configuration>/).
let snncMPI: String = {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [here, here.deletingLastPathComponent()] where FileManager.default.isExecutableFile(atPath: dir.path + "/snnc-mpi") { return dir.path + "/snnc-mpi" }
    return repoRoot + "/.build/release/snnc-mpi"
}()

struct Finished {
    var status: Int32
    var stdout: String, stderr: String
    var seconds: Double
}

/// mpirun with the given application contexts (MPMD: each `-np n args`), as root allowed.
func mpirun(_ contexts: [(ranks: Int, args: [String])]) throws -> Finished {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
    var a = ["--allow-run-as-root", "--oversubscribe"]
    for (i, c) in contexts.enumerated() {
        if i > 0 { a.append(":") }
        a += ["-np", "\(c.ranks)", snncMPI] + c.args
    }
    p.arguments = a
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let t0 = Date()
    try p.run()
    // Read both pipes while it runs (a full pipe would block it).
    nonisolated(unsafe) var errData = Data()
    let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return Finished(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                    seconds: Date().timeIntervalSince(t0))
}

func compiled(_ model: String, _ profile: String) throws -> String {
    let dir = NSTemporaryDirectory() + "snnc-mpi-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    var o = Compile.Options(modelPath: repoRoot + "/" + model)
    o.profile = profile.hasSuffix(".json") ? repoRoot + "/" + profile : profile
    o.output = dir
    let r = Compile.run(o)
    #expect(r.status == .success, "\(r.stderr)")
    return dir
}

/// The single-process JSON report of `snnc emulate`.
func single(_ dir: String, _ data: String, limit: Int?, check: Bool) -> String {
    var o = Emulate.Options(directory: dir, dataPath: repoRoot + "/" + data)
    o.limit = limit
    o.check = check
    o.json = true
    o.progress = false
    return Emulate.run(o).stdout
}

/// The report without its `distribution` field (the last one), and that field.
func split(_ json: String) -> (report: String, distribution: String) {
    guard let r = json.range(of: ",\n  \"distribution\": ") else { return (json, "") }
    let end = json.range(of: "\n}", options: .backwards)!
    return (String(json[..<r.lowerBound]) + String(json[end.lowerBound...]), String(json[r.upperBound..<end.lowerBound]))
}

@Suite(.serialized) struct MPITests {
    /// Ranks are chips: MNIST (first 20, --check) over the 5 chips it takes on 8-core chips —
    /// the same report as one process, in every field (classes → accuracy, FR, MT, per-layer
    /// spikes, overflows, the cycle model, the check verdict), and packets cross ranks.
    @Test(arguments: [2, 3]) func byChipsMatchesOneProcess(ranks: Int) throws {
        let dir = try compiled("Examples/mnist/model.json", "Tests/SNNCMPITests/Profiles/generic-8-core-chips.json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let want = single(dir, "Examples/mnist/test-data.json", limit: 20, check: true)
        #expect(want.contains("\"pass\": true"))
        let got = try mpirun([(ranks, ["emulate", dir, "--data", repoRoot + "/Examples/mnist/test-data.json", "--limit", "20", "--check", "--json", "--distribute", "chips"])])
        #expect(got.status == 0, "\(got.stderr)")
        let (report, distribution) = split(got.stdout)
        #expect(report == want)
        #expect(distribution.contains("\"ranks\": \(ranks)") && distribution.contains("\"mode\": \"chips\""))
        let bytes = distribution.components(separatedBy: "\"bytes_exchanged_per_step\": ").last.flatMap { Double($0.prefix { "0123456789.e+-".contains($0) }) } ?? 0
        #expect(bytes > 1000, "\(distribution)")
    }

    /// Ranks share the test set: IRIS (all 150) and MNIST (first 20), --check — the same report.
    @Test(arguments: [2, 3]) func byImagesMatchesOneProcess(ranks: Int) throws {
        for (model, profile, data, limit) in [("Examples/iris/model.json", "loihi", "Examples/iris/all.csv", nil as Int?),
                                              ("Examples/mnist/model.json", "generic", "Examples/mnist/test-data.json", 20)] {
            let dir = try compiled(model, profile)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let want = single(dir, data, limit: limit, check: true)
            let junit = dir + ".junit.xml"
            defer { try? FileManager.default.removeItem(atPath: junit) }
            let got = try mpirun([(ranks, ["emulate", dir, "--data", repoRoot + "/" + data, "--check", "--json", "--distribute", "images", "--junit", junit]
                                      + (limit.map { ["--limit", "\($0)"] } ?? []))])
            #expect(got.status == 0, "\(got.stderr)")
            #expect(split(got.stdout).report == want, "\(model)")
            #expect(split(got.stdout).distribution.contains("\"mode\": \"images\""))
            // Rank 0's JUnit report: the check passed, no failure element.
            let xml = (try? String(contentsOfFile: junit, encoding: .utf8)) ?? ""
            #expect(xml.contains("<testsuite") && !xml.contains("<failure"), "\(xml.prefix(300))")
        }
    }

    /// A rank whose data file is missing stops with its diagnostic while rank 0 waits in the
    /// first collective: the job ends non-zero within 10 s, naming the rank and the cause.
    @Test func aFailingRankEndsTheJob() throws {
        let dir = try compiled("Examples/iris/model.json", "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["emulate", dir, "--distribute", "chips", "--data"]
        let got = try mpirun([(1, args + [repoRoot + "/Examples/iris/all.csv"]), (1, args + ["/nonexistent/iris.csv"])])
        #expect(got.status != 0)
        #expect(got.seconds < 10, "took \(got.seconds) s")
        #expect(got.stderr.contains("rank 1 of 2") && got.stderr.contains("error[file-unreadable]"), "\(got.stderr)")
    }

    /// Ranks given different artefacts refuse at start, naming the rank; so does a rank whose
    /// artefact does not verify.
    @Test func mismatchedArtefactsAreRefused() throws {
        let a = try compiled("Examples/iris/model.json", "loihi"), b = try compiled("Examples/iris/model.json", "loihi2")
        defer { for d in [a, b] { try? FileManager.default.removeItem(atPath: d) } }
        let data = ["--data", repoRoot + "/Examples/iris/all.csv"]
        let got = try mpirun([(1, ["emulate", a] + data), (1, ["emulate", b] + data)])
        #expect(got.status == 1)
        #expect(got.stderr.contains("rank 1: error[mpi-artefact-mismatch]"), "\(got.stderr)")
        #expect(got.stdout.isEmpty)
        let missing = try mpirun([(2, ["emulate", a + "-missing"] + data)])
        #expect(missing.status == 1 && missing.stderr.contains("rank 0:") && missing.stderr.contains("error[artefact-invalid]"), "\(missing.stderr)")
    }
}
