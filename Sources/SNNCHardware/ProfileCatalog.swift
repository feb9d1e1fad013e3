// Where `--profile NAME` comes from. The shipped profiles (HardwareProfiles/*.json) are embedded
// in the binary when it is built (SwiftPM's embedInCode resources: Sources/SNNCHardware/Profiles
// is a link to HardwareProfiles/), so an installed `snnc` needs no source tree. A user's own
// profiles: a path to a .json file, or NAME.json in a directory of $SNNC_PROFILE_PATH
// (colon-separated), which is searched first and so may shadow a shipped profile.
import SNNCIR

public enum ProfileCatalog {
    /// The shipped profiles, as their files' bytes (a test checks these equal HardwareProfiles/).
    public static let builtIn: [(name: String, bytes: [UInt8])] = [
        ("dynapcnn", PackageResources.dynapcnn_json),
        ("generic", PackageResources.generic_json),
        ("loihi", PackageResources.loihi_json),
        ("loihi2", PackageResources.loihi2_json),
        ("spinnaker", PackageResources.spinnaker_json),
        ("spinnaker2", PackageResources.spinnaker2_json),
        ("truenorth", PackageResources.truenorth_json),
    ]

    /// One profile a name can reach: where it comes from ("built in", or the file's path).
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The file's path; nil for a built-in profile.
        public let path: String?
        public var origin: String { path ?? "built in" }
    }

    /// The directories of `SNNC_PROFILE_PATH`, in order (empty entries skipped).
    public static func directories(environment: [String: String]) -> [String] {
        (environment["SNNC_PROFILE_PATH"] ?? "").split(separator: ":").map(String.init)
    }

    /// A profile argument is a path when it names a .json file or has a slash in it.
    public static func isPath(_ s: String) -> Bool { s.hasSuffix(".json") || s.contains("/") }

    /// Every profile a name reaches, first match wins: the directories' NAME.json files (each
    /// directory's sorted), then the built-in ones not shadowed.
    public static func entries(directories: [String]) -> [Entry] {
        var out: [Entry] = []
        var seen = Set<String>()
        for dir in directories {
            for name in jsonNames(in: dir) where !seen.contains(name) {
                seen.insert(name)
                out.append(Entry(name: name, path: dir + "/" + name + ".json"))
            }
        }
        for b in builtIn where !seen.contains(b.name) {
            seen.insert(b.name)
            out.append(Entry(name: b.name, path: nil))
        }
        return out
    }

    /// Loads `nameOrPath`: a path is read as a file; a name is looked up in `directories`, then
    /// among the built-in profiles; an unknown name fails with `profile-not-found`, suggesting
    /// the nearest names.
    public static func load(_ nameOrPath: String, directories: [String]) -> Result<HardwareProfile, DiagnosticsError> {
        if isPath(nameOrPath) { return ProfileLoader.load(path: nameOrPath) }
        for dir in directories where fileExists(dir + "/" + nameOrPath + ".json") {
            return ProfileLoader.load(path: dir + "/" + nameOrPath + ".json")
        }
        if let b = builtIn.first(where: { $0.name == nameOrPath }) {
            return ProfileLoader.load(bytes: b.bytes, displayName: "HardwareProfiles/" + b.name + ".json (built in)")
        }
        let known = entries(directories: directories).map(\.name)
        var notes: [String] = []
        let near = suggestions(for: nameOrPath, among: known)
        if !near.isEmpty { notes.append("did you mean " + near.map { "'\($0)'" }.joined(separator: " or ") + "?") }
        notes.append("known profiles: " + known.joined(separator: ", ") + " (built in"
                     + (directories.isEmpty ? "; add your own with SNNC_PROFILE_PATH=DIR or a path to a .json file)" : ", and " + directories.joined(separator: ", ") + ")"))
        notes.append("snnc profile --list shows each with its limits")
        return .failure(DiagnosticsError([Diagnostic(.error, .profileNotFound, file: nameOrPath,
                                                     "no hardware profile named '\(nameOrPath)'", notes: notes)]))
    }

    /// Names close to `name`: edit distance at most 2 (or a third of its length), or one a prefix
    /// of the other — nearest first, at most three.
    public static func suggestions(for name: String, among names: [String]) -> [String] {
        let a = Array(name.lowercased())
        var scored: [(Int, String)] = []
        for n in names {
            let b = Array(n.lowercased())
            let d = editDistance(a, b)
            let prefix = !a.isEmpty && (b.starts(with: a) || a.starts(with: b))
            if d <= max(2, a.count / 3) || prefix { scored.append((prefix ? min(d, 2) : d, n)) }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(3).map(\.1)
    }

    /// Levenshtein distance (insert, delete, substitute: cost 1 each).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitute, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The NAME of every NAME.json in `dir`, sorted (none when it cannot be read).
    static func jsonNames(in dir: String) -> [String] {
        (directoryEntries(dir) ?? []).filter { $0.hasSuffix(".json") && $0.count > 5 }.map { String($0.dropLast(5)) }.sorted()
    }
}
