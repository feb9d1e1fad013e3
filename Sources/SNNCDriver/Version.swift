/// The snnc version, written into compiled artefacts and printed by `snnc --version`.
public let snncVersion = "0.1.0"
