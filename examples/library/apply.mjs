// vidbuild as a library: plan, check the cost yourself, apply with a budget.
//   node examples/library/apply.mjs            (in a folder with a videos.yaml)
//   VIDBUILD_BACKEND=emulator node examples/library/apply.mjs   (offline, free)
import { apply, formatDiagnostic, plan } from 'vidbuild';

const planned = await plan();
if (!planned.ok) {
  for (const d of planned.diagnostics) console.error(formatDiagnostic(d));
  process.exit(1);
}
console.log(`${planned.plan.steps.length} targets, about $${planned.plan.summary.cost.toFixed(2)}`);
if (!planned.changes) process.exit(0);

const result = await apply({
  backend: process.env.VIDBUILD_BACKEND === 'emulator' ? 'emulator' : 'openai',
  maxCost: 5, // refused before anything is sent if the plan is estimated above $5
  onEvent: (e) => {
    if (e.type === 'target-done') console.log(`done: ${e.name} (${e.outcome})`);
    if (e.type === 'job-failed') console.error(`failed: ${e.name}: ${e.code}: ${e.message}`);
  },
});
if (!result.ok) {
  for (const d of result.diagnostics) console.error(formatDiagnostic(d));
  process.exit(1);
}
console.log(`created ${result.summary.created}, restored ${result.summary.fetched}, failed ${result.summary.failed}`);
process.exit(result.exitCode);
