// Verifies a webhook request with the official Standard Webhooks library.
// Usage: node verify.mjs SECRET < {"headers":{…},"body":"…"}
import { Webhook } from 'standardwebhooks';

let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const { headers, body } = JSON.parse(input);
  try {
    new Webhook(process.argv[2].replace(/^whsec_/, '')).verify(body, headers);
    console.log('verified');
  } catch (e) {
    console.log('rejected: ' + e.message);
    process.exit(1);
  }
});
