// The compiled artefact directory (Docs/artefact.md): everything a chip — or snnc's emulator —
// needs to run the network, and nothing it must look up elsewhere. Written to a temporary
// directory beside the target and renamed into place, so a failed compile leaves no half-written
// artefact; no timestamps or paths inside, so the same inputs give the same bytes.
import SNNCArtefact
import SNNCHardware
import SNNCIR
import SNNCImport
import SNNCJSON
import SNNCPasses
#if canImport(Glibc)
import Glibc
#endif

public enum Artefact {
    public static let sourceModel = ArtefactFormat.sourceModel

    /// The name a model read from `path` takes in an artefact.
    public static func sourceModelName(forModelAt path: String) -> String {
        ModelFiles.isONNX(path) ? ArtefactFormat.sourceModelONNX : (ModelFiles.isNIR(path) ? ArtefactFormat.sourceModelNIR : sourceModel)
    }

    /// The source model the float reference of an artefact runs from: its JSON, its ONNX file, or
    /// its NIR file.
    public static func sourceModelPath(in dir: String) -> String {
        for name in [ArtefactFormat.sourceModelONNX, ArtefactFormat.sourceModelNIR] where fileExists(dir + "/" + name) { return dir + "/" + name }
        return dir + "/" + sourceModel
    }

    /// How the artefact's NIR source was read (source-options.json); the defaults when absent.
    public static func nirOptions(in dir: String) -> Result<NIROptions, DiagnosticsError> {
        let path = dir + "/" + ArtefactFormat.sourceOptions
        guard fileExists(path) else { return .success(NIROptions()) }
        guard let bytes = try? readWholeFile(path, limit: 1 << 16), let doc = try? JSONDocument.parse(bytes),
              let c = doc.root["nir_convention"]?.string.flatMap(NIROptions.Convention.init(rawValue:)) else {
            return .failure(DiagnosticsError([Diagnostic(.error, .artefactInvalid, file: path, "not the artefact's source options (nir_convention, nir_dt)")]))
        }
        let dt = doc.root["nir_dt"]?.double
        if let dt, !(dt.isFinite && dt > 0) {
            return .failure(DiagnosticsError([Diagnostic(.error, .artefactInvalid, file: path, "nir_dt must be a positive number")]))
        }
        return .success(NIROptions(convention: c, dt: dt))
    }

    public static func files(_ unit: CompileUnit, modelBytes: [UInt8], weightsBytes: [UInt8]?, sourceName: String = sourceModel,
                             nir: NIROptions? = nil) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        out.append((sourceName, modelBytes))
        if let nir {
            let opts = JSONOutput.object([("nir_convention", .string(nir.convention.rawValue)), ("nir_dt", nir.dt.map { .double($0) } ?? .null)])
            out.append((ArtefactFormat.sourceOptions, Array(opts.serialized().utf8)))
        }
        let reserved = ArtefactFormat.reserved
        // Copied under its own file name: the model refers to it by name, beside the JSON.
        if let w = weightsBytes, let path = unit.model.weightsFile, let name = path.split(separator: "/").last.map(String.init),
           !reserved.contains(name), !name.hasPrefix(".") {
            out.append((name, w))
        }
        // The machine-readable files, as the pipeline's `emit` pass made them.
        out += unit.artefactFiles
        let report = MappingReport(unit)
        out.append(("report.json", Array(report.json().serialized().utf8)))
        out.append(("report.md", Array(report.markdown().utf8)))
        out.append(("report.svg", Array(report.svg().utf8)))
        var inputs: [(String, JSONOutput)] = [("model_sha256", .string(ArtefactFormat.sha256(modelBytes)))]
        if let w = weightsBytes { inputs.append(("weights_sha256", .string(ArtefactFormat.sha256(w)))) }
        inputs.append(("profile", .string(unit.profile.name)))
        inputs.append(("profile_sha256", .string(ArtefactFormat.sha256(unit.profile.bytes))))
        let manifest = ArtefactFormat.manifestBytes([("snnc_version", .string(snncVersion)), ("model", .string(unit.model.name)), ("inputs", .object(inputs)),
                                                     ("passes", .array(unit.completed.map { .string($0) }))], files: out)
        return [(ArtefactFormat.manifest, manifest)] + out
    }

    /// Writes the files into `dir` atomically: a fresh temporary directory beside it, then a
    /// rename; an existing artefact at `dir` is replaced only once the new one is complete.
    public static func write(_ files: [(String, [UInt8])], to dir: String) throws(FileIOError) {
        let tmp = dir + ".snnc-tmp-\(getpid())"
        removeDirectoryOfFiles(tmp)
        if mkdir(tmp, 0o755) != 0 { throw .writeFailed(path: dir, reason: String(cString: strerror(errno))) }
        do {
            for (name, bytes) in files { try writeFileAtomically(tmp + "/" + name, bytes) }
        } catch {
            removeDirectoryOfFiles(tmp)
            throw error
        }
        let old = dir + ".snnc-old-\(getpid())"
        var st = stat()
        let existed = stat(dir, &st) == 0
        if existed {
            guard (st.st_mode & S_IFMT) == S_IFDIR, fileExists(dir + "/" + ArtefactFormat.manifest) || isEmptyDirectory(dir) else {
                removeDirectoryOfFiles(tmp)
                throw .writeFailed(path: dir, reason: "it exists and is not a snnc artefact directory; refusing to replace it")
            }
            if rename(dir, old) != 0 { removeDirectoryOfFiles(tmp); throw .writeFailed(path: dir, reason: String(cString: strerror(errno))) }
        }
        if rename(tmp, dir) != 0 {
            let reason = String(cString: strerror(errno))
            if existed { _ = rename(old, dir) }
            removeDirectoryOfFiles(tmp)
            throw .writeFailed(path: dir, reason: reason)
        }
        if existed { removeDirectoryOfFiles(old) }
    }

    static func isEmptyDirectory(_ path: String) -> Bool { directoryEntries(path)?.isEmpty ?? false }
}
