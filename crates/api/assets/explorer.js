// The GraphQL explorer page: runs the query with the token field's token.
const token = document.getElementById('token');
token.value = sessionStorage.getItem('auditrelay-token') || '';
async function run() {
  sessionStorage.setItem('auditrelay-token', token.value);
  let variables = {};
  try { variables = JSON.parse(document.getElementById('variables').value || '{}'); }
  catch (e) { document.getElementById('result').textContent = 'Variables are not valid JSON: ' + e; return; }
  const headers = { 'Content-Type': 'application/json' };
  if (token.value) headers['Authorization'] = 'Bearer ' + token.value;
  const response = await fetch('/api/graphql', { method: 'POST', headers, body: JSON.stringify({ query: document.getElementById('query').value, variables }) });
  document.getElementById('result').textContent = JSON.stringify(await response.json(), null, 2);
}
document.getElementById('run').addEventListener('click', run);
document.addEventListener('keydown', (e) => { if (e.ctrlKey && e.key === 'Enter') run(); });
