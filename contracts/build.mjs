#!/usr/bin/env node
// Compiles zkr's contracts with the pinned solc WebAssembly build (npm `solc`) through its
// standard-JSON interface and writes one artifact per contract to out/<Name>.json (ABI, creation
// and deployed bytecode, link references, compiler and settings).
//
//   node build.mjs           compile and (re)write out/
//   node build.mjs --check   compile and fail if out/ differs from the fresh artifacts
//
// Run `npm ci` here first: it installs the exact versions of package-lock.json.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, "out");

// The compiler and its settings are part of the artifacts: changing them changes the bytecode.
const SOLC_VERSION = "0.8.28+commit.7893614a.Emscripten.clang";
const SETTINGS = {
  // Poseidon is two thirds cheaper at a high `runs` (the issue measured 29k vs 18k gas for
  // two inputs); every contract still fits EIP-170's 24,576 bytes (checked below).
  optimizer: { enabled: true, runs: 1000000 },
  evmVersion: "cancun",
  // No metadata hash: the bytecode depends on the sources and settings only.
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: {
    "*": {
      "*": [
        "abi",
        "evm.bytecode.object",
        "evm.bytecode.linkReferences",
        "evm.deployedBytecode.object",
        "evm.deployedBytecode.linkReferences",
      ],
    },
  },
};

// Source unit name -> file. Library sources come from node_modules (pinned in package-lock.json).
const SOURCES = {
  "Rollup.sol": "Rollup.sol",
  "KeyedVerifier.sol": "KeyedVerifier.sol",
  "test/Verifier.sol": "test/Verifier.sol",
  "test/Token.sol": "test/Token.sol",
  "BabyJubjub.sol": "BabyJubjub.sol",
  "PublicData.sol": "PublicData.sol",
  "StepExecutor.sol": "StepExecutor.sol",
  "OptimisticRollup.sol": "OptimisticRollup.sol",
  "test/EddsaHarness.sol": "test/EddsaHarness.sol",
  "poseidon-solidity/PoseidonT3.sol": "node_modules/poseidon-solidity/PoseidonT3.sol",
  "poseidon-solidity/PoseidonT4.sol": "node_modules/poseidon-solidity/PoseidonT4.sol",
  "poseidon-solidity/PoseidonT5.sol": "node_modules/poseidon-solidity/PoseidonT5.sol",
  "poseidon-solidity/PoseidonT6.sol": "node_modules/poseidon-solidity/PoseidonT6.sol",
  "PoseidonT9.sol": "PoseidonT9.sol",
  "PoseidonT9Constants.sol": "PoseidonT9Constants.sol",
};
// Contracts written to out/, by source unit.
const WANTED = {
  "Rollup.sol": ["Rollup"],
  "KeyedVerifier.sol": ["Groth16KeyedVerifier"],
  "test/Verifier.sol": ["Groth16Verifier"],
  "test/Token.sol": ["Token"],
  "test/EddsaHarness.sol": ["EddsaHarness"],
  "StepExecutor.sol": ["StepExecutor"],
  "OptimisticRollup.sol": ["OptimisticRollup"],
  "poseidon-solidity/PoseidonT3.sol": ["PoseidonT3"],
  "poseidon-solidity/PoseidonT4.sol": ["PoseidonT4"],
  "poseidon-solidity/PoseidonT5.sol": ["PoseidonT5"],
  "poseidon-solidity/PoseidonT6.sol": ["PoseidonT6"],
  "PoseidonT9.sol": ["PoseidonT9"],
};
const MAX_CODE_SIZE = 24576;

function compile() {
  if (solc.version() !== SOLC_VERSION) {
    throw new Error(`solc ${solc.version()} is installed, the build pins ${SOLC_VERSION}: run npm ci`);
  }
  const sources = {};
  for (const [unit, file] of Object.entries(SOURCES)) {
    sources[unit] = { content: fs.readFileSync(path.join(HERE, file), "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) console.error(e.formattedMessage);
  if (errors.length > 0) throw new Error(`${errors.length} compilation error(s)`);

  const artifacts = {};
  for (const [unit, names] of Object.entries(WANTED)) {
    for (const name of names) {
      const c = output.contracts[unit][name];
      const size = c.evm.deployedBytecode.object.length / 2;
      if (size > MAX_CODE_SIZE) throw new Error(`${name} is ${size} bytes, over EIP-170's ${MAX_CODE_SIZE}`);
      const artifact = {
        contractName: name,
        sourceName: unit,
        compiler: { solc: SOLC_VERSION, settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion } },
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        linkReferences: c.evm.bytecode.linkReferences,
        deployedLinkReferences: c.evm.deployedBytecode.linkReferences,
      };
      artifacts[`${name}.json`] = JSON.stringify(artifact, null, 2) + "\n";
    }
  }
  return artifacts;
}

const check = process.argv.includes("--check");
const artifacts = compile();
if (check) {
  const committed = fs.existsSync(OUT) ? fs.readdirSync(OUT).filter((f) => f.endsWith(".json")) : [];
  const problems = [];
  for (const [file, text] of Object.entries(artifacts)) {
    const p = path.join(OUT, file);
    if (!fs.existsSync(p)) problems.push(`${file}: missing`);
    else if (fs.readFileSync(p, "utf8") !== text) problems.push(`${file}: differs from a fresh build`);
  }
  for (const f of committed) if (!(f in artifacts)) problems.push(`${f}: not produced by the build`);
  if (problems.length > 0) {
    console.error("contracts/out is stale (run `node build.mjs` in contracts/ and commit out/):");
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`contracts/out matches a fresh build (${Object.keys(artifacts).length} artifacts, solc ${SOLC_VERSION})`);
} else {
  fs.mkdirSync(OUT, { recursive: true });
  for (const [file, text] of Object.entries(artifacts)) fs.writeFileSync(path.join(OUT, file), text);
  console.log(`wrote ${Object.keys(artifacts).length} artifacts to contracts/out (solc ${SOLC_VERSION})`);
}
