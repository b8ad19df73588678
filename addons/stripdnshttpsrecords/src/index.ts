export { StripDnsHttpsRecords } from './stripdnshttpsrecords.js';
export { StripDnsHttpsRecords as default } from './stripdnshttpsrecords.js';
